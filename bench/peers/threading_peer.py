"""Python threading peer for bench/run.mjs: one measurement per process, one line of JSON out.

    python3 bench/peers/threading_peer.py '<json params>'

Same protocol as bench/peers/common.mjs:
    {"metric": "latency", "n", "warmup"}            -> {"samples": [us, ...], "startCall": [us, ...]}
    {"metric": "throughput", "n", "inFlight", "warmup"} -> {"n", "inFlight", "seconds", "perSecond"}
    {"metric": "rss", "alive", "stack", "warmup"}   -> {"alive", "stack", "before", "after", "perThreadKiB", "tasks"}
    {"metric": "cpu", "ms", "tasks"}                -> {"ms", "tasks", "iterations", "serialMs", "parallelMs", "speedup", "serial", "parallel"}
        spin(iterations), calibrated to ~ms here, `tasks` (default 2) times in a row on the main
        thread, then in `tasks` threads at once (they share the GIL).
Times with time.perf_counter_ns() (CLOCK_MONOTONIC); RSS from /proc/self/status (VmRSS).
"""
import collections
import gc
import json
import os
import sys
import threading
import time


def vm_rss():
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) * 1024
    raise RuntimeError('no VmRSS')


def settled_rss():
    gc.collect()
    time.sleep(0.02)
    return vm_rss()


def latency(n):
    samples = []
    start_call = []
    for _ in range(n):
        slot = [0]

        def target():
            slot[0] = time.perf_counter_ns()

        t = threading.Thread(target=target)
        t0 = time.perf_counter_ns()  # just before start(): construction is not counted
        t.start()
        start_call.append((time.perf_counter_ns() - t0) / 1000)
        t.join()
        samples.append((slot[0] - t0) / 1000)
    return samples, start_call


def noop():
    pass


def throughput(n, in_flight):
    # A sliding window of `in_flight` threads: join the oldest, start a new one.
    window = collections.deque()
    t0 = time.perf_counter_ns()
    for _ in range(n):
        if len(window) >= in_flight:
            window.popleft().join()
        t = threading.Thread(target=noop)
        t.start()
        window.append(t)
    while window:
        window.popleft().join()
    seconds = (time.perf_counter_ns() - t0) / 1e9
    return {'n': n, 'inFlight': in_flight, 'seconds': seconds, 'perSecond': n / seconds}


def start_waiting(count, gate):
    threads = []
    for _ in range(count):
        t = threading.Thread(target=gate.wait)
        t.start()  # returns once the thread runs
        threads.append(t)
    return threads


def rss(alive, stack, warmup):
    if stack:
        threading.stack_size(stack)
    gate = threading.Event()
    warm = start_waiting(warmup, gate)
    gate.set()
    for t in warm:
        t.join()
    del warm
    # join() returns once the thread state is released, a moment before the OS thread is gone:
    # wait for the warm-up threads to leave /proc before counting.
    deadline = time.monotonic() + 5
    while len(os.listdir('/proc/self/task')) > 1 and time.monotonic() < deadline:
        time.sleep(0.005)
    before = settled_rss()
    tasks_before = len(os.listdir('/proc/self/task'))
    gate = threading.Event()
    threads = start_waiting(alive, gate)
    time.sleep(0.05)
    after = settled_rss()
    live_tasks = len(os.listdir('/proc/self/task')) - tasks_before
    # No release and join: with 10,000 threads that takes Python longer than the measurement;
    # main() exits with os._exit(0) once the result is out.
    return {'alive': alive, 'stack': stack, 'before': before, 'after': after, 'tasks': live_tasks,
            'perThreadKiB': round((after - before) / alive / 1024, 1)}


def spin(iterations):
    """CPU-bound pure-Python work: xorshift32 (the same loop as bench/peers/module-work.mjs)."""
    x = 2463534242
    for _ in range(iterations):
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
    return x


def calibrate(ms):
    """Iterations of spin worth `ms`: double a trial until it takes 30 ms, scale the best of three."""
    def timed(n):
        t0 = time.perf_counter_ns()
        spin(n)
        return (time.perf_counter_ns() - t0) / 1e6
    n = 1 << 14
    while timed(n) < 30:
        n *= 2
    best = min(timed(n), timed(n), timed(n))
    return round(n * ms / best)


def cpu(ms, tasks=2):
    iterations = calibrate(ms)
    slots = range(tasks)
    stamps = [[0, 0] for _ in slots]

    def work(n, slot):
        stamps[slot][0] = time.perf_counter_ns()
        spin(n)
        stamps[slot][1] = time.perf_counter_ns()

    def spans(t0):
        return [{'beganMs': round((a - t0) / 1e6, 3), 'workMs': round((b - a) / 1e6, 3)} for a, b in stamps]

    def serial(n):
        t0 = time.perf_counter_ns()
        for slot in slots:
            work(n, slot)
        return (time.perf_counter_ns() - t0) / 1e6, spans(t0)

    def parallel(n):
        threads = [threading.Thread(target=work, args=(n, slot)) for slot in slots]
        t0 = time.perf_counter_ns()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return (time.perf_counter_ns() - t0) / 1e6, spans(t0)

    small = max(1, iterations // 100)
    serial(small)  # warm-up: both paths once, with 1% of the work
    parallel(small)
    serial_ms, serial_runs = serial(iterations)
    parallel_ms, parallel_runs = parallel(iterations)
    return {'ms': ms, 'tasks': tasks, 'iterations': iterations, 'serialMs': round(serial_ms, 3),
            'parallelMs': round(parallel_ms, 3), 'speedup': serial_ms / parallel_ms,
            'serial': serial_runs, 'parallel': parallel_runs}


def main():
    p = json.loads(sys.argv[1])
    metric = p['metric']
    if metric == 'latency':
        latency(p['warmup'])
        samples, start_call = latency(p['n'])
        out = {'samples': [round(s, 1) for s in samples], 'startCall': [round(s, 1) for s in start_call]}
    elif metric == 'throughput':
        throughput(p['warmup'], p['inFlight'])
        out = throughput(p['n'], p['inFlight'])
    elif metric == 'rss':
        out = rss(p['alive'], p['stack'], p['warmup'])
    elif metric == 'cpu':
        out = cpu(p['ms'], p.get('tasks', 2))
    else:
        sys.exit('unknown metric ' + metric)
    sys.stdout.write(json.dumps(out) + '\n')
    sys.stdout.flush()
    if metric == 'rss':
        os._exit(0)  # the threads still wait on the gate: leave without joining them


if __name__ == '__main__':
    main()
