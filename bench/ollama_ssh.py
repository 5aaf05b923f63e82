#!/usr/bin/env python3
"""playbooks/ollama.yml on a converged test host over ssh: provision's no-op time and round trips (target:
under 0.1 s, one round trip), beside the floors measured in the same run: one fresh `ssh HOST true` (a
connection, a shell, nothing else), which is what any tool that reaches the host pays at least once, and
`ssh HOST true` over a shared connection kept open (ControlPersist, as provision's runs after the first use).

    python3 bench/ollama_ssh.py [--runs 5] [--binary .build/release/provision]
                                [--hosts /var/tmp/provision-testhosts-ollama]

Needs the Ollama test host (scripts/test.sh starts it; or PROVISION_TESTHOSTS_DIR=DIR PROVISION_TESTHOSTS_PORT=22361
PROVISION_TESTHOSTS_MODE=nested testhosts/fleet-up.sh 1 trixie). The image and models are the Ollama STAND-IN's
(testhosts/ollama-standin/build-image.sh): the image is loaded from its archive and the models imported from its
model store folder (ollama_model_source), so no registry is needed. The first apply converges the host (about
1.5 min on a fresh one: packages), the second must change nothing; then the timed runs. Ansible is no peer here:
it has no ollama_model, quadlet or podman_image modules that work on this host without a network.
"""
import argparse, json, os, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd, check=True):
    res = subprocess.run(cmd, capture_output=True, text=True)
    if check and res.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}")
    return res


def timed(cmd, runs):
    samples, last = [], None
    for _ in range(runs):
        start = time.perf_counter()
        last = run(cmd)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), min(samples), last


def linkage(binary):
    """How the binary has Swift's runtime: the README's build carries it (--static-swift-stdlib)."""
    out = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    return "Swift runtime linked dynamically" if "libswiftCore" in out else "Swift runtime inside"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--binary", default=os.path.join(ROOT, ".build/release/provision"))
    ap.add_argument("--hosts", default=os.environ.get("PROVISION_OLLAMA_HOSTS_DIR", "/var/tmp/provision-testhosts-ollama"))
    args = ap.parse_args()
    if not os.access(args.binary, os.X_OK):
        sys.exit(f"{args.binary} not found: run `swift build -c release --static-swift-stdlib` first (or pass --binary)")
    try:
        fleet = open(os.path.join(args.hosts, "fleet")).read().split()
    except OSError:
        fleet = []
    if len(fleet) < 3:
        sys.exit(f"no test host in {args.hosts}: start one with testhosts/fleet-up.sh (see --help)")
    port = fleet[1]
    built = dict(line.split("=", 1) for line in
                 run(["/bin/bash", os.path.join(ROOT, "testhosts/ollama-standin/build-image.sh")]).stdout.split())

    work = tempfile.mkdtemp(prefix="provision-ollama-bench-")
    os.makedirs(f"{work}/inventory/host_vars")
    ssh = ["ssh", "-o", "BatchMode=yes", "-o", f"UserKnownHostsFile={args.hosts}/known_hosts", "-o", "IdentitiesOnly=yes",
           "-i", f"{args.hosts}/id_ed25519", "-p", port, "root@127.0.0.1"]
    with open(f"{work}/inventory/hosts.yml", "w") as fh:
        fh.write(f"all:\n  vars:\n    ansible_user: root\n    ansible_host: 127.0.0.1\n"
                 f"    ansible_ssh_private_key_file: {args.hosts}/id_ed25519\n"
                 f"    ansible_ssh_common_args: -o UserKnownHostsFile={args.hosts}/known_hosts -o IdentitiesOnly=yes\n"
                 f"  children:\n    ollama_servers:\n      hosts:\n        th: {{ansible_port: {port}}}\n")
    with open(f"{work}/inventory/host_vars/th.yml", "w") as fh:
        fh.write(f"ollama_image: {built['image']}\nollama_image_archive: {built['archive']}\nollama_model_source: {built['models']}\n")
    # The test hosts' quirks (nested podman), as the standard's playbook tests use them.
    os.symlink(os.path.join(ROOT, "testhosts/standard/group_vars"), f"{work}/inventory/group_vars")
    provision = [args.binary, "apply", os.path.join(ROOT, "playbooks/ollama.yml"), "-i", f"{work}/inventory/hosts.yml", "--json"]

    start = time.perf_counter()
    first = json.loads(run(provision).stdout)["recap"]["th"]
    converge = time.perf_counter() - start
    second = json.loads(run(provision).stdout)["recap"]["th"]
    p_median, p_min, last = timed(provision, args.runs)
    recap = json.loads(last.stdout)["recap"]["th"]
    s_median, s_min, _ = timed(ssh + ["true"], args.runs)
    shared = ssh[:1] + ["-o", "ControlMaster=auto", "-o", "ControlPersist=30s", "-o", f"ControlPath={work}/cm-%C"] + ssh[1:]
    run(shared + ["true"])
    c_median, c_min, _ = timed(shared + ["true"], args.runs)
    print(f"playbooks/ollama.yml, test host on port {port} over ssh, {args.runs} runs each ({os.path.basename(args.binary)} "
          f"{'release' if '/release/' in args.binary else 'debug'} build, {linkage(args.binary)}):")
    print(f"  first apply   {converge:7.2f} s  changed {first['changed']}")
    print(f"  second apply  changed {second['changed']}")
    print(f"  provision no-op  median {p_median:6.3f} s  min {p_min:6.3f} s  round trips {recap['round_trips']}  changed {recap['changed']}")
    print(f"  ssh HOST true    median {s_median:6.3f} s  min {s_min:6.3f} s  (the floor: one connection, one command)")
    print(f"  ssh HOST true    median {c_median:6.3f} s  min {c_min:6.3f} s  (over a shared connection kept open)")
    run(shared + ["-O", "exit"], check=False)


if __name__ == "__main__":
    main()
