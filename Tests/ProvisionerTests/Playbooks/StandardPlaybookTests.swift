import Foundation
import XCTest

/// The shipped playbooks of the container runtime standard (seed 004) on fresh Debian trixie test hosts over
/// ssh. Podman is not in the image: the `package` module installs it from Debian's archive. The test-host
/// quirks come from `testhosts/standard/` (group_vars/host_vars), written by provision itself.
/// Hosts: `PROVISION_TESTHOSTS_DIR=/var/tmp/provision-testhosts-standard PROVISION_TESTHOSTS_PORT=22301
/// PROVISION_TESTHOSTS_MODE=nested testhosts/fleet-up.sh 2 trixie` (scripts/test.sh does this).
final class StandardPlaybookTests: XCTestCase {
    static let folder = ProcessInfo.processInfo.environment["PROVISION_STANDARD_HOSTS_DIR"] ?? "/var/tmp/provision-testhosts-standard"
    var fleet: TestFleet!

    override func setUpWithError() throws {
        fleet = try TestFleet(folder: StandardPlaybookTests.folder, count: 2,
                              start: "PROVISION_TESTHOSTS_DIR=\(StandardPlaybookTests.folder) PROVISION_TESTHOSTS_PORT=22301 "
                                  + "PROVISION_TESTHOSTS_MODE=nested testhosts/fleet-up.sh 2 trixie")
    }

    /// motoko is the first host, the workstation `ws1` the second; each test uses only its own host.
    var motoko: Int { fleet.hosts[0].port }
    var workstation: Int { fleet.hosts[1].port }

    /// An inventory in the shape of `inventory/hosts.yml` that reaches the test hosts, with the quirks'
    /// group_vars and host_vars beside it.
    func inventory(in scratch: Scratch) throws -> String {
        let path = try scratch.write("inventory/hosts.yml", """
        all:
          vars:
            ansible_user: root
            ansible_host: 127.0.0.1
            ansible_ssh_private_key_file: \(fleet.folder)/id_ed25519
            ansible_ssh_common_args: \(fleet.sshArguments)
          children:
            linux_servers:
              hosts:
                motoko: {ansible_port: \(motoko)}
            linux_workstations:
              hosts:
                ws1: {ansible_port: \(workstation)}

        """)
        let quirks = TestSupport.packageRoot.appendingPathComponent("testhosts/standard").path
        for folder in ["group_vars", "host_vars"] {
            try FileManager.default.createSymbolicLink(atPath: scratch.path + "/inventory/" + folder,
                                                       withDestinationPath: quirks + "/" + folder)
        }
        return path
    }

    /// `provision COMMAND PLAYBOOK --json` on a shipped playbook, with the inventory written in `scratch`.
    func provision(_ scratch: Scratch, _ command: String, _ playbook: String, inventory: String) throws -> TestSupport.Result {
        let path = TestSupport.packageRoot.appendingPathComponent("playbooks/" + playbook).path
        return try scratch.provision([command, path, "-i", inventory, "--json"])
    }

    /// What a check must leave alone: installed packages, configuration, wrappers, accounts, linger.
    func snapshot(_ port: Int) throws -> String {
        try fleet.output(port, "dpkg-query -W -f '${Package} ${Version} ${db:Status-Abbrev}\\n' | sha256sum;"
            + " find /etc /usr/local /var/lib/systemd/linger /home /space -xdev -printf '%p %y %m %u %s %T@\\n' 2>/dev/null"
            + " | grep -v -e '^/etc/ld.so.cache ' | sort | sha256sum")
    }

    /// busybox, to make local images from (there is no registry).
    func installBusybox(_ port: Int) throws {
        _ = try fleet.output(port, "command -v busybox >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q busybox-static >/dev/null")
    }

    /// Rootless `podman run --rm` of a local image as `user` (no registry here: the image is made from busybox).
    func runRootless(_ port: Int, user: String) throws -> TestSupport.Result {
        try installBusybox(port)
        let script = "export XDG_RUNTIME_DIR=/run/user/$(id -u); cd $(mktemp -d) && mkdir -p rootfs/bin && cp $(command -v busybox) rootfs/bin/"
            + " && ln -s busybox rootfs/bin/sh && ln -s busybox rootfs/bin/echo"
            + " && tar -C rootfs -cf bb.tar . && podman import -q bb.tar localhost/busybox:test >/dev/null"
            + " && podman run --rm localhost/busybox:test echo rootless-ok"
        return try fleet.run(port, "runuser -u \(user) -- sh -c '\(script)'")
    }

    /// motoko.yml converges a fresh host and the standard's QA §8.1 holds there; a second run changes nothing.
    func testMotokoConvergesAndMeetsTheQACriteria() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let hosts = try inventory(in: scratch)
        try MotokoServicesQA.buildStandIns()
        let fresh = try snapshot(motoko)
        let check = try provision(scratch, "check", "motoko.yml", inventory: hosts)
        XCTAssertEqual(check.status, 0, check.stdout + check.stderr)
        XCTAssertEqual(try snapshot(motoko), fresh, "--check changed the host")
        let first = try provision(scratch, "apply", "motoko.yml", inventory: hosts)
        XCTAssertEqual(first.status, 0, first.stdout + first.stderr)
        XCTAssertGreaterThan(first.recap("changed"), 8, first.stdout)
        let nvidia = first.tasks.first { ($0["task"] as? String ?? "").contains("NVIDIA") }
        XCTAssertEqual(nvidia?["status"] as? String, "skipped", "\(nvidia ?? [:])")
        XCTAssertTrue((nvidia?["message"] as? String ?? "").contains("no NVIDIA GPU"), "\(nvidia ?? [:])")

        // QA §8.1, each criterion on its own.
        XCTAssertEqual(try fleet.output(motoko, "podman info --format '{{.Store.GraphRoot}}' 2>/dev/null"),
                       "/space/containers/engine/podman\n", "podman info shows the configured graphroot")
        XCTAssertNotEqual(try fleet.run(motoko, "systemctl is-active docker.service").status, 0, "no Docker daemon runs")
        XCTAssertTrue(try fleet.output(motoko, "docker --version").lowercased().contains("podman"), "docker answers with podman")
        XCTAssertEqual(try fleet.run(motoko, "docker ps").status, 0, "docker ps works")
        let search = try fleet.output(motoko, "podman info --format '{{range .Registries.search}}{{.}} {{end}}' 2>/dev/null")
        XCTAssertEqual(search, "docker.io quay.io ghcr.io \n", "registries are the configured ones")
        for tool in ["buildah --version", "skopeo --version", "podman-compose --version", "docker-compose --version"] {
            XCTAssertEqual(try fleet.run(motoko, tool + " >/dev/null 2>&1").status, 0, "\(tool) answers")
        }

        // The rootless user: subordinate ids, linger (its manager runs), and a container of its own.
        XCTAssertTrue(try fleet.output(motoko, "cat /etc/subuid").contains("alice:"), "alice has subuids")
        XCTAssertTrue(try fleet.output(motoko, "cat /etc/subgid").contains("alice:"), "alice has subgids")
        XCTAssertEqual(try fleet.output(motoko, "systemctl is-active user@$(id -u alice).service"), "active\n", "alice lingers")
        let rootless = try runRootless(motoko, user: "alice")
        XCTAssertEqual(rootless.stdout, "rootless-ok\n", rootless.stderr)

        // §5.2 motoko's services (stand-in images) and QA §8.1's service criteria.
        try MotokoServicesQA.assertServices(fleet, port: motoko)

        let second = try provision(scratch, "apply", "motoko.yml", inventory: hosts)
        XCTAssertEqual(second.status, 0, second.stdout + second.stderr)
        XCTAssertEqual(second.recap("changed"), 0, second.stdout)
    }

    /// On a fresh host `--check` lists every change workstation.yml would make and changes nothing; applying
    /// it then meets QA §8.2, and a second run changes nothing.
    func testWorkstationCheckChangesNothingThenConverges() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let hosts = try inventory(in: scratch)
        let before = try snapshot(workstation)
        let check = try provision(scratch, "check", "workstation.yml", inventory: hosts)
        XCTAssertEqual(check.status, 0, check.stdout + check.stderr)
        XCTAssertEqual(try snapshot(workstation), before, "--check changed the host")
        let wouldChange = Set(check.tasks.filter { $0["status"] as? String == "changed" }.compactMap { $0["task"] as? String })
        for task in ["Development tools are installed", "Podman, podman-compose, buildah and skopeo are installed",
                     "The docker CLI runs podman", "Registries are the configured ones", "Host-specific runtime files are in place",
                     "containers.conf has the host's engine settings", "Container storage is where the standard puts it",
                     "Rootless container users exist", "Rootless users have subordinate uid and gid ranges",
                     "Rootless users' systemd managers run without a login (linger)"] {
            XCTAssertTrue(wouldChange.contains { $0.hasSuffix(task) }, "--check does not list '\(task)': \(wouldChange.sorted())")
        }

        let first = try provision(scratch, "apply", "workstation.yml", inventory: hosts)
        XCTAssertEqual(first.status, 0, first.stdout + first.stderr)
        // QA §8.2, each criterion on its own.
        XCTAssertTrue(try fleet.output(workstation, "podman --version").hasPrefix("podman version"), "podman installed")
        XCTAssertEqual(try fleet.run(workstation, "docker ps").status, 0, "docker ps works")
        XCTAssertTrue(try fleet.output(workstation, "cat /usr/local/bin/docker").contains("exec podman \"$@\""), "wrapper present")
        XCTAssertNotEqual(try fleet.run(workstation, "systemctl is-active docker.service").status, 0, "no Docker daemon runs")
        try installBusybox(workstation)
        let run = try fleet.run(workstation, "mkdir -p /tmp/bb/bin && cp $(command -v busybox) /tmp/bb/bin/ && ln -sf busybox /tmp/bb/bin/echo"
            + " && tar -C /tmp/bb -cf /tmp/bb.tar . && docker import -q /tmp/bb.tar localhost/bbroot:test >/dev/null"
            + " && docker run --rm localhost/bbroot:test echo docker-ok")
        XCTAssertEqual(run.stdout, "docker-ok\n", "docker run --rm works: " + run.stderr)
        XCTAssertTrue(try fleet.output(workstation, "podman info 2>/dev/null").contains("- quay.io"), "registries configured")

        let second = try provision(scratch, "apply", "workstation.yml", inventory: hosts)
        XCTAssertEqual(second.status, 0, second.stdout + second.stderr)
        XCTAssertEqual(second.recap("changed"), 0, second.stdout)
    }
}
