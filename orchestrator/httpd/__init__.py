"""The API's HTTP server: cheroot's WSGI server, hardened.

* :mod:`.framing` tells, from the bytes received so far, whether a whole
  request (head and body) is there;
* :mod:`.connections` is the selector loop: it accepts (up to a cap),
  reads every connection without blocking, enforces the idle, head and
  body deadlines and hands a connection to a worker thread only once its
  whole request is buffered;
* :mod:`.protocol` is cheroot's connection and request, reading from
  that buffer, answering its own errors as Nova-shaped JSON;
* :mod:`.server` puts them together.
"""
