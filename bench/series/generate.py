#!/usr/bin/env python3
"""generate.py - write the synthetic memory series that bench/trend_replay replays.

Each series is what memdeltad would record for one target: committed private
bytes sampled every 10 s for 24 h, with a label saying when memory leaks.
Run from anywhere: python3 bench/series/generate.py [OUTDIR] (default: the
folder of this script).  The output is byte-identical from run to run (each
series has its own seeded random.Random).  See README.md for the format.
"""
import math
import os
import random
import sys

MIB = 1048576.0
STEP_S = 10
HOURS = 24


def gauss(rng, sigma):
    return rng.gauss(0.0, sigma)


def uniform(rng, half):
    return (2.0 * rng.random() - 1.0) * half


class Series:
    def __init__(self, name, desc, seed, leaks, normal_bytes):
        self.name = name
        self.desc = desc
        self.rng = random.Random(seed)
        self.leaks = leaks  # list of (start_s, end_s)
        self.normal_bytes = normal_bytes  # the highest level of normal operation
        self.rows = []  # (time_s, instance_start_s, bytes)

    def write(self, outdir):
        path = os.path.join(outdir, self.name + ".csv")
        with open(path, "w") as f:
            f.write("# memdelta trend replay series: %s\n" % self.name)
            f.write("# description: %s\n" % self.desc)
            if self.leaks:
                f.write("# leaks: %s\n" % " ".join("%d-%d" % l for l in self.leaks))
            else:
                f.write("# leaks: none\n")
            f.write("# normal_kib: %d\n" % int(self.normal_bytes // 1024))
            f.write("# time_s,instance_start_s,committed_kib\n")
            for t, inst, v in self.rows:
                f.write("%d,%d,%d\n" % (t, inst, max(0, int(v // 1024))))


def timeline(fn, s, start=0, end=HOURS * 3600, inst=0):
    for t in range(start, end + 1, STEP_S):
        s.rows.append((t, inst, fn((t - inst) / 3600.0)))


def build():
    out = []
    day = HOURS * 3600

    s = Series("steady_leak", "50 MiB/h on 1 GiB from the start, gauss 2 MiB", 1,
               [(0, day)], 1024 * MIB)
    timeline(lambda h: 1024 * MIB + 50 * MIB * h + gauss(s.rng, 2 * MIB), s)
    out.append(s)

    s = Series("slow_leak", "1 MiB/h on 500 MiB from the start, gauss 1 MiB", 2,
               [(0, day)], 500 * MIB)
    timeline(lambda h: 500 * MIB + 1 * MIB * h + gauss(s.rng, 1 * MIB), s)
    out.append(s)

    s = Series("slow_leak_noisy", "1 MiB/h on 500 MiB from the start, gauss 2 MiB", 19,
               [(0, day)], 500 * MIB)
    timeline(lambda h: 500 * MIB + 1 * MIB * h + gauss(s.rng, 2 * MIB), s)
    out.append(s)

    s = Series("noisy_leak", "20 MiB/h on 1 GiB under +-30 MiB uniform noise", 3,
               [(0, day)], 1054 * MIB)
    timeline(lambda h: 1024 * MIB + 20 * MIB * h + uniform(s.rng, 30 * MIB), s)
    out.append(s)

    s = Series("late_leak", "flat 1 GiB for 5 h, then 10 MiB/h, gauss 2 MiB", 4,
               [(5 * 3600, day)], 1024 * MIB)
    timeline(lambda h: 1024 * MIB + 10 * MIB * max(0.0, h - 5) + gauss(s.rng, 2 * MIB), s)
    out.append(s)

    s = Series("sawtooth_leak", "GC sawtooth (+200 MiB over 5 min, drop) whose floor leaks 5 MiB/h",
               5, [(0, day)], 1000 * MIB)
    timeline(lambda h: 800 * MIB + 5 * MIB * h + 200 * MIB * min(1.0, math.fmod(h * 60, 5) / 5)
             + gauss(s.rng, 2 * MIB), s)
    out.append(s)

    s = Series("restart", "instance 1 leaks 50 MiB/h, restarts at 4 h; instance 2 flat 3 h "
               "at 300 MiB, then leaks 30 MiB/h", 6, [(0, 4 * 3600), (7 * 3600, day)], 1024 * MIB)
    timeline(lambda h: 1024 * MIB + 50 * MIB * h + gauss(s.rng, 2 * MIB), s, 0, 4 * 3600 - STEP_S)
    timeline(lambda h: 300 * MIB + 30 * MIB * max(0.0, h - 3) + gauss(s.rng, 2 * MIB), s,
             4 * 3600, day, 4 * 3600)
    out.append(s)

    s = Series("two_procs_a", "process A of a target with two: leaks 10 MiB/h on 1 GiB", 7,
               [(0, day)], 1024 * MIB)
    timeline(lambda h: 1024 * MIB + 10 * MIB * h + gauss(s.rng, 2 * MIB), s)
    out.append(s)

    s = Series("two_procs_b", "process B of the same target: flat 1 GiB, gauss 2 MiB", 8, [],
               1024 * MIB)
    timeline(lambda h: 1024 * MIB + gauss(s.rng, 2 * MIB), s)
    out.append(s)

    s = Series("sawtooth", "GC sawtooth: +200 MiB over 5 min, drop, on 800 MiB", 9, [],
               1000 * MIB)
    timeline(lambda h: 800 * MIB + 200 * MIB * min(1.0, math.fmod(h * 60, 5) / 5)
             + gauss(s.rng, 2 * MIB), s)
    out.append(s)

    s = Series("warmup_plateau", "warm-up 200 MiB -> 1 GiB (tau 20 min), then flat", 10, [],
               1024 * MIB)
    timeline(lambda h: 200 * MIB + 824 * MIB * (1 - math.exp(-h * 3)) + gauss(s.rng, 2 * MIB), s)
    out.append(s)

    s = Series("warmup_slow", "slow warm-up 200 MiB -> 1 GiB (tau 45 min), then flat", 11, [],
               1024 * MIB)
    timeline(lambda h: 200 * MIB + 824 * MIB * (1 - math.exp(-h * 60 / 45))
             + gauss(s.rng, 2 * MIB), s)
    out.append(s)

    s = Series("warmup_60min", "slow warm-up 200 MiB -> 1 GiB (tau 60 min), then flat", 20, [],
               1024 * MIB)
    timeline(lambda h: 200 * MIB + 824 * MIB * (1 - math.exp(-h)) + gauss(s.rng, 2 * MIB), s)
    out.append(s)

    s = Series("step_cache", "a cache loads +200 MiB at 3 h on 600 MiB, then flat; gauss 10 MiB",
               12, [], 800 * MIB)
    timeline(lambda h: 600 * MIB + (200 * MIB if h >= 3 else 0) + gauss(s.rng, 10 * MIB), s)
    out.append(s)

    s = Series("reserve_flat_commit", "reserves 4 GiB over the day; committed stays 300 MiB", 13,
               [], 300 * MIB)
    timeline(lambda h: 300 * MIB + gauss(s.rng, 1 * MIB), s)
    out.append(s)

    s = Series("noise_gauss", "flat 1 GiB, gauss 10 MiB", 14, [], 1024 * MIB)
    timeline(lambda h: 1024 * MIB + gauss(s.rng, 10 * MIB), s)
    out.append(s)

    s = Series("noise_uniform", "flat 1 GiB, +-30 MiB uniform", 15, [], 1054 * MIB)
    timeline(lambda h: 1024 * MIB + uniform(s.rng, 30 * MIB), s)
    out.append(s)

    # Slow random wanders (AR(1), 10 MiB, correlation time 30 min, 1 h, 2 h):
    # no trend, but any hour or six of one can look like one.  The hard case.
    for seed, tau_min in ((16, 30), (17, 60), (18, 120)):
        s = Series("wander_%dmin" % tau_min, "flat 1 GiB with a slow AR(1) wander: 10 MiB, "
                   "correlation time %d min" % tau_min, seed, [], 1054 * MIB)
        timeline(ar1(s.rng, 10 * MIB, tau_min * 60.0, 1024 * MIB), s)
        out.append(s)
    return out


def ar1(rng, sigma, tau_s, level):
    """An AR(1) process sampled every STEP_S: stationary sd @sigma."""
    a = math.exp(-STEP_S / tau_s)
    state = [0.0]

    def value(h):
        state[0] = a * state[0] + math.sqrt(1 - a * a) * rng.gauss(0.0, 1.0)
        return level + sigma * state[0]
    return value


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    for s in build():
        s.write(outdir)


if __name__ == "__main__":
    main()
