"""Where an HTTP/1.x request ends, from the bytes received so far.

:class:`RequestFramer` scans a connection's buffer incrementally (each
byte is looked at about once) and answers one of:

* :data:`MORE`: the request is incomplete and within limits;
* :data:`READY`: a worker can take the connection now, because the whole
  request is buffered or because it is malformed or over a limit (the
  worker's parser then answers the 4xx; nothing it needs is missing).

It only frames; validation is cheroot's. Where the two could disagree the
framer says READY, so a worker never waits for bytes: a request cheroot
finds incomplete is answered 400 from what is buffered.
"""

import re

MORE = 'more'
READY = 'ready'

#: Longest chunk-size line (with extensions) before it counts as malformed.
MAX_CHUNK_LINE = 4096
_HEAD_END = re.compile(rb'\r?\n\r?\n')
_CHUNK_SIZE = re.compile(rb'[0-9A-Fa-f]+\Z')


def _headers(head):
    """{lowercased name: [values]} of a head (request line first)."""
    fields = {}
    for line in head.split(b'\n')[1:]:
        name, sep, value = line.partition(b':')
        if sep:
            fields.setdefault(name.strip().lower(), []).append(
                value.strip())
    return fields


class RequestFramer:
    """The framing state of one request on a connection.

    :param max_head: most bytes of request line and headers.
    :param max_body: most bytes of body (0: unlimited).
    :ivar head_end: offset of the body once the head is complete, else
        None.
    :ivar expects_continue: the head asked for ``100 Continue``.
    """

    def __init__(self, max_head, max_body):
        self.max_head = max_head
        self.max_body = max_body
        self.head_end = None
        self.expects_continue = False
        self._searched = 0      # the head's end is not before this offset
        self._length = None     # the body's Content-Length
        self._chunk_at = None   # offset of the next chunk-size line
        self._decoded = 0
        self._trailers = False

    def scan(self, buf):
        """MORE or READY for ``buf``, the connection's bytes from the
        request's first byte on (it only grows between calls)."""
        if self.head_end is None:
            verdict = self._scan_head(buf)
            if verdict is not None:
                return verdict
        if self._chunk_at is not None:
            return self._scan_chunks(buf)
        return READY if len(buf) - self.head_end >= self._length else MORE

    def _scan_head(self, buf):
        # NOTE: cheroot skips one empty line before a request line.
        start = 2 if buf.startswith(b'\r\n') else 0
        end = _HEAD_END.search(buf, max(start, self._searched))
        if end is None:
            # NOTE: a terminator may straddle two receives.
            self._searched = max(len(buf) - 3, 0)
            return READY if len(buf) > self.max_head else MORE
        if end.end() > self.max_head:
            return READY
        self.head_end = end.end()
        head = bytes(buf[start:end.start()])
        fields = _headers(head)
        lengths = fields.get(b'content-length', [])
        chunked = any(b'chunked' in v.lower()
                      for v in fields.get(b'transfer-encoding', []))
        if chunked and not head.split(b'\n', 1)[0].rstrip().endswith(
                b'HTTP/1.0'):
            if lengths:
                return READY    # ambiguous: refused by the parser
            self._chunk_at = self.head_end
        elif len(lengths) > 1 or (lengths and not lengths[0].isdigit()):
            return READY        # malformed: refused by the parser
        else:
            self._length = int(lengths[0]) if lengths else 0
            if self.max_body and self._length > self.max_body:
                return READY    # too large: refused before its body
        self.expects_continue = any(
            v.lower() == b'100-continue' for v in fields.get(b'expect', []))
        return None

    def _scan_chunks(self, buf):
        while True:
            eol = buf.find(b'\n', self._chunk_at)
            if eol < 0:
                too_long = len(buf) - self._chunk_at > MAX_CHUNK_LINE
                return READY if too_long else MORE
            line = bytes(buf[self._chunk_at:eol]).strip()
            if self._trailers:
                self._chunk_at = eol + 1
                if not line:
                    return READY
                continue
            size = line.split(b';', 1)[0].strip()
            if not _CHUNK_SIZE.match(size):
                return READY    # malformed: refused by the decoder
            size = int(size, 16)
            if size == 0:
                self._trailers = True
                self._chunk_at = eol + 1
                continue
            self._decoded += size
            if self.max_body and self._decoded > self.max_body:
                return READY    # too large: refused by the decoder
            after = eol + 1 + size + 2
            if len(buf) < after:
                return MORE
            self._chunk_at = after
