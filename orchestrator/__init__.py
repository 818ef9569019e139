"""A compact control plane for virtual machines, on TaskFlow.

NOTE(startup): oslo.messaging imports oslo.service, which imports
eventlet, whose green DNS resolver (dnspython, about 0.3 s) is loaded at
import unless ``EVENTLET_NO_GREENDNS`` is set. Nothing here uses eventlet
(oslo.messaging runs its threading executor), so every process of ours
skips it; an operator's own setting wins.
"""

import os

os.environ.setdefault('EVENTLET_NO_GREENDNS', 'yes')
