#!/usr/bin/env python3
"""YAML reader throughput: `provision debug yaml --quiet` beside PyYAML's C loader
(yaml.CSafeLoader, libyaml) on the same ~1 MB playbook-like file, in the same run.

    python3 bench/yaml_throughput.py [--size-mb 1] [--runs 15] [--binary .build/release/provision]

provision's figure is one process per run, with the time of an empty run (process
start-up) subtracted; PyYAML's is in-process. Memory: peak RSS of the provision
process (GNU time), and the part the parse adds over an empty run.
"""
import argparse, os, random, subprocess, sys, time

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def playbook_like(size_bytes, seed=7):
    """Plays with vars, tasks, loops, handlers, block scalars, flow lists, comments and Jinja."""
    rng = random.Random(seed)
    words = "podman nginx ollama registry storage quadlet service volume network image model host".split()
    out, n = ["---"], 0
    while sum(len(x) + 1 for x in out) < size_bytes:
        n += 1
        out.append(f"- name: Converge group {n} ({rng.choice(words)})")
        out.append(f"  hosts: {rng.choice(['linux_servers', 'linux_workstations', 'all'])}")
        out.append("  become: yes")
        out.append("  vars:")
        out.append(f"    podman_graphroot: /space/containers/engine/podman{n}")
        out.append(f"    ports: [{rng.randint(1024, 65535)}, {rng.randint(1024, 65535)}]")
        out.append(f"    defaults: &defaults{n} {{state: present, mode: '0644', owner: root}}")
        out.append("  tasks:")
        for t in range(rng.randint(4, 9)):
            w = rng.choice(words)
            out.append(f"    # step {t}: keep {w} converged")
            out.append(f"    - name: \"Ensure {w} {t} is configured for {{{{ inventory_hostname }}}}\"")
            kind = rng.random()
            if kind < 0.3:
                out.append("      ansible.builtin.template:")
                out.append(f"        src: templates/{w}.conf.j2")
                out.append(f"        dest: /etc/containers/{w}-{t}.conf")
                out.append("        mode: 0644")
                out.append(f"      notify: restart {w}")
            elif kind < 0.55:
                out.append("      ansible.builtin.copy:")
                out.append(f"        dest: /etc/{w}/{t}.ini")
                out.append("        content: |")
                for k in range(rng.randint(2, 6)):
                    out.append(f"          key_{k} = {rng.choice(words)}-{rng.randint(0, 999)}")
            elif kind < 0.8:
                out.append("      ansible.builtin.package:")
                out.append(f"        name: '{{{{ item }}}}'")
                out.append("        state: latest")
                out.append("      loop:")
                for k in range(rng.randint(2, 5)):
                    out.append(f"        - {rng.choice(words)}-{k}")
                out.append("      when: ansible_facts['os_family'] == \"Debian\" and not skip_packages | default(false)")
            else:
                out.append("      ansible.builtin.lineinfile:")
                out.append(f"        <<: *defaults{n}")
                out.append(f"        path: /etc/sysctl.d/{rng.randint(10, 99)}-{w}.conf")
                out.append(f"        line: >-")
                out.append(f"          net.ipv4.ip_unprivileged_port_start={rng.randint(0, 1024)}")
                out.append(f"          # folded into one line")
            out.append(f"      tags: [{w}, step{t}]")
    return ("\n".join(out) + "\n").encode()


def best_time(fn, runs):
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def peak_rss_kb(cmd, data):
    res = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, input=data, capture_output=True)
    return int(res.stderr.decode().strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mb", type=float, default=1.0)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--binary", default=os.path.join(ROOT, ".build/release/provision"))
    args = ap.parse_args()
    if not os.access(args.binary, os.X_OK):
        sys.exit(f"{args.binary} not found: run `swift build -c release --static-swift-stdlib` first")
    if not getattr(yaml, "__with_libyaml__", False):
        sys.exit("PyYAML has no libyaml here (yaml.CSafeLoader missing): install libyaml and PyYAML with it")
    data = playbook_like(int(args.size_mb * 1024 * 1024))
    mb = len(data) / 1e6
    cmd = [args.binary, "debug", "yaml", "--quiet"]
    check = subprocess.run(cmd, input=data, capture_output=True)
    if check.returncode != 0:
        sys.exit("provision rejected the benchmark file: " + check.stderr.decode())
    ours = subprocess.run([args.binary, "debug", "yaml"], input=data, capture_output=True).stdout
    if yaml.load(data, Loader=yaml.CSafeLoader) != yaml.safe_load(ours):
        print("note: provision's JSON differs from PyYAML's value on this file", file=sys.stderr)

    startup = best_time(lambda: subprocess.run(cmd, input=b"", capture_output=True), args.runs)
    whole = best_time(lambda: subprocess.run(cmd, input=data, capture_output=True), args.runs)
    ours_s = max(whole - startup, 1e-9)
    pyyaml_s = best_time(lambda: yaml.load(data, Loader=yaml.CSafeLoader), args.runs)
    rss_empty = peak_rss_kb(cmd, b"")
    rss_full = peak_rss_kb(cmd, data)

    print(f"input: {len(data):,} bytes of playbook-like YAML ({mb:.2f} MB), best of {args.runs} runs")
    print(f"{'reader':34} {'seconds':>9} {'MB/s':>9}")
    print(f"{'provision (parse, start-up removed)':34} {ours_s:9.4f} {mb / ours_s:9.1f}")
    print(f"{'provision (whole process)':34} {whole:9.4f} {mb / whole:9.1f}")
    print(f"{'PyYAML CSafeLoader (libyaml)':34} {pyyaml_s:9.4f} {mb / pyyaml_s:9.1f}")
    print(f"speed-up over CSafeLoader: {pyyaml_s / ours_s:.1f}x (whole process: {pyyaml_s / whole:.1f}x)")
    print(f"peak RSS: {rss_full / 1024:.1f} MiB ({rss_empty / 1024:.1f} MiB for an empty input);"
          f" the parse adds {(rss_full - rss_empty) / 1024:.1f} MiB = {(rss_full - rss_empty) * 1024 / len(data):.1f}x the input")


if __name__ == "__main__":
    main()
