"""Clean a host after a force delete (the instance row is already gone).

Store in:  context, instance_uuid, host, action_id
Final:     no migration of the instance in progress or waiting; no
           guest of it on the host nor on the (up) hosts its migrations
           name; no allocation whose instance is this one.
Retries:   the destroy is retried a few times (a host that is briefly
           away); a host that stays away is cleaned by reconciliation.
Resume:    forward; every step is idempotent.
"""

from taskflow.patterns import linear_flow
from taskflow import retry

from flows import keys
from flows.tasks import host_calls
from flows.tasks import migrations
from flows.tasks import scheduling

FLOW_NAME = keys.CLEANUP_FLOW
RESUME_POLICY = keys.RESUME
DESTROY_ATTEMPTS = 3


def get_flow():
    return linear_flow.Flow(
        FLOW_NAME, retry=retry.Times(DESTROY_ATTEMPTS,
                                     name=FLOW_NAME + '-retry')).add(
        migrations.EndMigrationsOfDeleted(),
        host_calls.DestroyLeftovers(),
        scheduling.ReleaseResourcesOfDeleted(),
    )
