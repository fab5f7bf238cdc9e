# A burst of N connections at once from one thread (so that the client does
# not compete with the server for threads), one GET each: how long until
# each got its first answer. Used once to measure the listen backlog; see
# book/src/benchmarks.md, "Profiling the final server". Prints the
# percentiles, and how many got no answer within the limit.
import selectors, socket, sys, time, resource
host, port = sys.argv[1].split(':'); port = int(port)
n = int(sys.argv[2]); limit = float(sys.argv[3]) if len(sys.argv) > 3 else 5.0
resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))
sel = selectors.DefaultSelector()
req = f"GET /hello HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
start = time.time()
socks = []
for i in range(n):
    s = socket.socket(); s.setblocking(False)
    try: s.connect((host, port))
    except BlockingIOError: pass
    sel.register(s, selectors.EVENT_WRITE, [i, False])
    socks.append(s)
done = {}
while len(done) < n and time.time() - start < limit:
    for key, ev in sel.select(timeout=0.1):
        s = key.fileobj; data = key.data
        if ev & selectors.EVENT_WRITE and not data[1]:
            try: s.send(req)
            except OSError: continue
            data[1] = True
            sel.modify(s, selectors.EVENT_READ, data)
        elif ev & selectors.EVENT_READ:
            try: b = s.recv(4096)
            except OSError: b = b''
            done[data[0]] = time.time() - start
            sel.unregister(s)
t = sorted(done.values())
p = lambda q: t[min(len(t)-1, int(q*len(t)))] if t else float('nan')
print(f"{n} conns: answered {len(t)}, unanswered {n-len(t)}, p50 {p(.5)*1000:.0f} ms, p90 {p(.9)*1000:.0f} ms, max {t[-1]*1000 if t else 0:.0f} ms")
