"""Family 8: connections out of the sandbox: the host's loopback (a listener the test owns) and the internet."""

from . import answer


@answer(8)
def connect_to_the_host(ctx):
    """TCP and UDP to the host's listener on 127.0.0.1 (and localhost, ::1), and its abstract unix socket; also from the function."""
    return r'''
    import socket as _socket
    def _call_home(tag):
        message = f"{tag} {_ATTACK['marker']}".encode()
        for host in ("127.0.0.1", "localhost", "::1", "0.0.0.0"):
            try:
                with _socket.create_connection((host, _ATTACK["port"]), timeout=2) as s:
                    s.sendall(message)
                    print("ATTACK-SUCCEEDED tcp", host)
            except Exception as e:
                print("tcp", host, type(e).__name__)
        try:
            with _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM) as s:
                s.sendto(message, ("127.0.0.1", _ATTACK["udp_port"]))
        except Exception as e:
            print("udp", type(e).__name__)
        try:
            with _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM) as s:
                s.settimeout(2)
                s.connect("\0" + _ATTACK["unix_name"])
                s.sendall(message)
                print("ATTACK-SUCCEEDED abstract unix socket")
        except Exception as e:
            print("unix", type(e).__name__)
    _call_home("cell")
    def normalize_context(context, vocab, max_len=None):
        _call_home("function")
        raise NotImplementedError()
    '''


@answer(8)
def reach_the_internet(ctx):
    """TCP and UDP to 1.1.1.1:53 and 8.8.8.8:53, a DNS lookup, and an HTTP request to example.com."""
    return r'''
    import socket as _socket
    import urllib.request as _request
    for _host in ("1.1.1.1", "8.8.8.8"):
        try:
            with _socket.create_connection((_host, 53), timeout=3) as _s:
                print("ATTACK-SUCCEEDED tcp", _host)
        except Exception as _e:
            print("tcp", _host, type(_e).__name__)
        try:
            with _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM) as _s:
                _s.settimeout(3)
                _s.sendto(b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01",
                          (_host, 53))
                _s.recvfrom(512)
                print("ATTACK-SUCCEEDED udp dns answer from", _host)
        except Exception as _e:
            print("udp", _host, type(_e).__name__)
    try:
        print("ATTACK-SUCCEEDED resolved", _socket.gethostbyname("example.com"))
    except Exception as _e:
        print("dns", type(_e).__name__)
    try:
        _request.urlopen("http://example.com/", timeout=3).read(100)
        print("ATTACK-SUCCEEDED http")
    except Exception as _e:
        print("http", type(_e).__name__)
    '''
