import Foundation
import XCTest

/// The shipped playbooks of the container runtime standard (seed 004) on Debian trixie test hosts over ssh, in
/// the shapes real servers come in: fresh (podman is not in the image: the `package` module installs it from
/// Debian's archive), and shaped at test start by the scripts in `testhosts/shapes/` (apt inside the host):
/// podman preinstalled without recommends, a half-configured server, Docker Engine installed. The test-host
/// quirks come from `testhosts/standard/` (group_vars/host_vars), written by provision itself.
/// Hosts: `PROVISION_TESTHOSTS_DIR=/var/tmp/provision-testhosts-standard PROVISION_TESTHOSTS_PORT=22301
/// PROVISION_TESTHOSTS_MODE=nested testhosts/fleet-up.sh 5 trixie` (scripts/test.sh does this); each test uses
/// its own host, once.
final class StandardPlaybookTests: XCTestCase {
    static let folder = ProcessInfo.processInfo.environment["PROVISION_STANDARD_HOSTS_DIR"] ?? "/var/tmp/provision-testhosts-standard"
    static let port = Int(ProcessInfo.processInfo.environment["PROVISION_STANDARD_HOSTS_PORT"] ?? "") ?? 22301
    static let start = "PROVISION_TESTHOSTS_DIR=\(folder) PROVISION_TESTHOSTS_PORT=\(port) "
        + "PROVISION_TESTHOSTS_MODE=nested testhosts/fleet-up.sh 5 trixie"
    var fleet: TestFleet!

    override func setUpWithError() throws {
        fleet = try TestFleet(folder: StandardPlaybookTests.folder, count: 2, start: StandardPlaybookTests.start)
        // motoko's services load their stand-in images from these archives (testhosts/standard/host_vars/motoko).
        let build = try TestSupport.runSpawned(TestSupport.packageRoot.appendingPathComponent("testhosts/services/build-standins.sh").path,
                                               [ServicesTestHost.standIns])
        XCTAssertEqual(build.status, 0, "building the stand-in images failed: \(build.stderr)")
    }

    /// motoko is the first host, the workstation `ws1` the second; each test uses only its own host.
    var motoko: Int { fleet.hosts[0].port }
    var workstation: Int { fleet.hosts[1].port }

    /// The port of the fleet's host number `index` (from 0), or a skip when the fleet is smaller.
    func host(_ index: Int) throws -> Int {
        try TestFleet(folder: StandardPlaybookTests.folder, count: index + 1, start: StandardPlaybookTests.start).hosts[index].port
    }

    /// An inventory in the shape of `inventory/hosts.yml` that reaches the test hosts, with the quirks'
    /// group_vars and host_vars beside it: `servers` in linux_servers, `workstations` in linux_workstations.
    func inventory(in scratch: Scratch, servers: KeyValuePairs<String, Int>, workstations: KeyValuePairs<String, Int>) throws -> String {
        func hosts(_ group: KeyValuePairs<String, Int>) -> String {
            group.isEmpty ? "{}" : "\n" + group.map { "            \($0.key): {ansible_port: \($0.value)}" }.joined(separator: "\n")
        }
        let path = try scratch.write("inventory/hosts.yml", """
        all:
          vars:
        \(fleet.connectionVariables)
          children:
            linux_servers:
              hosts: \(hosts(servers))
            linux_workstations:
              hosts: \(hosts(workstations))

        """)
        let quirks = TestSupport.packageRoot.appendingPathComponent("testhosts/standard").path
        for folder in ["group_vars", "host_vars"] {
            try FileManager.default.createSymbolicLink(atPath: scratch.path + "/inventory/" + folder,
                                                       withDestinationPath: quirks + "/" + folder)
        }
        return path
    }

    func inventory(in scratch: Scratch) throws -> String {
        try inventory(in: scratch, servers: ["motoko": motoko], workstations: ["ws1": workstation])
    }

    /// The port of the host that `testhosts/shapes/standard-fleet` gives the shape `name`, shaped by
    /// `testhosts/shapes/apply.sh` (scripts/test.sh starts that in the background; this waits for it).
    func shapedHost(_ name: String) throws -> Int {
        let shapes = TestSupport.packageRoot.appendingPathComponent("testhosts/shapes")
        let list = try String(contentsOf: shapes.appendingPathComponent("standard-fleet"), encoding: .utf8)
        let number = list.split(separator: "\n").first { !$0.hasPrefix("#") && $0.hasSuffix(" " + name) }?.split(separator: " ").first
        guard let number, let index = Int(number) else { throw ShapeFailed(message: "no host has the shape \(name) in standard-fleet") }
        let port = try host(index - 1)
        let result = try TestSupport.run(shapes.appendingPathComponent("apply.sh").path, [fleet.folder, String(number)])
        guard result.status == 0 else { throw ShapeFailed(message: "shape \(name): \(result.stdout)\(result.stderr)") }
        return port
    }

    struct ShapeFailed: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
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

    // MARK: Host shapes

    /// What every shape must show: `--check` changes nothing, `apply` converges and leaves podman working,
    /// a second `apply` and a `--check` then change nothing. Returns the first apply.
    @discardableResult
    func assertConverges(_ playbook: String, on port: Int, _ scratch: Scratch, inventory: String, extra: [String] = [],
                         file: StaticString = #filePath, line: UInt = #line) throws -> TestSupport.Result {
        let before = try snapshot(port)
        let check = try scratch.provision(["check", path(playbook), "-i", inventory, "--json"] + extra)
        XCTAssertEqual(check.status, 0, check.stdout + check.stderr, file: file, line: line)
        XCTAssertGreaterThan(check.recap("changed"), 0, "--check lists no change", file: file, line: line)
        XCTAssertEqual(try snapshot(port), before, "--check changed the host", file: file, line: line)

        let first = try scratch.provision(["apply", path(playbook), "-i", inventory, "--json"] + extra)
        XCTAssertEqual(first.status, 0, first.stdout + first.stderr, file: file, line: line)
        let info = try fleet.run(port, "podman info --format '{{.Store.GraphRoot}} {{.Store.GraphDriverName}}'")
        XCTAssertEqual(info.status, 0, "podman info fails after the converge: \(info.stderr)", file: file, line: line)

        let second = try scratch.provision(["apply", path(playbook), "-i", inventory, "--json"] + extra)
        XCTAssertEqual(second.status, 0, second.stdout + second.stderr, file: file, line: line)
        XCTAssertEqual(second.recap("changed"), 0, second.stdout, file: file, line: line)
        let converged = try snapshot(port)
        let again = try scratch.provision(["check", path(playbook), "-i", inventory, "--json"] + extra)
        XCTAssertEqual(again.status, 0, again.stdout + again.stderr, file: file, line: line)
        XCTAssertEqual(again.recap("changed"), 0, again.stdout, file: file, line: line)
        XCTAssertEqual(try snapshot(port), converged, "--check changed the host", file: file, line: line)
        return first
    }

    func path(_ playbook: String) -> String { TestSupport.packageRoot.appendingPathComponent("playbooks/" + playbook).path }

    /// Issue 9 §4: podman preinstalled without recommends, so no storage.conf anywhere. workstation.yml sets
    /// runroot and the driver: the storage.conf it writes must still be one podman accepts.
    func testWorkstationOnPodmanPreinstalledWithoutRecommends() throws {
        let port = try shapedHost("podman-without-recommends")
        let scratch = try Scratch()
        defer { scratch.remove() }
        let hosts = try inventory(in: scratch, servers: [:], workstations: ["ws1": port])
        let first = try assertConverges("workstation.yml", on: port, scratch, inventory: hosts)
        let storage = first.tasks.first { ($0["task"] as? String ?? "").hasSuffix("Container storage is where the standard puts it") }
        XCTAssertEqual(storage?["status"] as? String, "changed", "\(storage ?? [:])")
        XCTAssertEqual(try fleet.output(port, "podman info --format '{{.Store.GraphRoot}} {{.Store.RunRoot}} {{.Store.GraphDriverName}}'"),
                       "/var/lib/containers/storage /run/containers/storage vfs\n")
        let conf = try fleet.output(port, "cat /etc/containers/storage.conf")
        XCTAssertTrue(conf.contains("graphroot = \"/var/lib/containers/storage\""), conf)
        XCTAssertEqual(try fleet.run(port, "test -e /usr/share/containers/storage.conf").status, 1, "still no vendor file")

        // A rootless user's files: storage.conf with only the task's keys is enough (containers-storage fills in
        // the rest); registries.conf keeps the short-name aliases of the system's drop-in, which it replaces.
        let play = try scratch.write("user-files.yml", """
        - hosts: linux_workstations
          tasks:
            - storage_conf: {user: alice, driver: vfs}
            - registries_conf: {user: alice, short_name_mode: permissive}

        """)
        let user = try scratch.provision(["apply", play, "-i", hosts, "--json"])
        XCTAssertEqual(user.status, 0, user.stdout + user.stderr)
        XCTAssertEqual(try fleet.output(port, "cat ~alice/.config/containers/storage.conf"), "[storage]\ndriver = \"vfs\"\n")
        let asAlice = "cd / && runuser -u alice -- env XDG_RUNTIME_DIR=/run/user/$(id -u alice) PODMAN_IGNORE_CGROUPSV1_WARNING=1 "
        XCTAssertEqual(try fleet.output(port, asAlice + "podman info --format '{{.Store.GraphRoot}} {{.Store.GraphDriverName}}'"),
                       "/home/alice/.local/share/containers/storage vfs\n")
        // No registry is reachable: the pull fails, after saying how the short name resolved.
        let pull = try fleet.run(port, asAlice + "podman pull busybox 2>&1 | head -n 1")
        XCTAssertEqual(pull.stdout, "Resolved \"busybox\" as an alias (/home/alice/.config/containers/registries.conf)\n")
    }

    /// A server set up by hand before the standard: the old files are edited in place, the user's own
    /// subordinate range is kept, the hand-written docker wrapper is replaced with a backup.
    func testMotokoOnAHalfConfiguredServer() throws {
        let port = try shapedHost("half-configured")
        let scratch = try Scratch()
        defer { scratch.remove() }
        let hosts = try inventory(in: scratch, servers: ["motoko": port], workstations: [:])
        try assertConverges("motoko.yml", on: port, scratch, inventory: hosts)
        XCTAssertEqual(try fleet.output(port, "podman info --format '{{.Store.GraphRoot}} {{.Store.GraphDriverName}}'"),
                       "/space/containers/engine/podman vfs\n")
        XCTAssertEqual(try fleet.output(port, "podman info --format '{{range .Registries.search}}{{.}} {{end}}'"),
                       "docker.io quay.io ghcr.io \n")
        let storage = try fleet.output(port, "cat /etc/containers/storage.conf")
        XCTAssertTrue(storage.hasPrefix("# Set up by hand"), "storage.conf was replaced, not edited: \(storage)")
        XCTAssertTrue(storage.contains("graphroot = \"/space/containers/engine/podman\""), storage)
        let registries = try fleet.output(port, "cat /etc/containers/registries.conf")
        XCTAssertTrue(registries.contains("short-name-mode = \"permissive\""), "the old setting stays: \(registries)")
        XCTAssertEqual(try fleet.output(port, "grep ^alice: /etc/subuid /etc/subgid"),
                       "/etc/subuid:alice:300000:65536\n/etc/subgid:alice:300000:65536\n", "alice's own range is kept")
        XCTAssertTrue(try fleet.output(port, "cat /usr/local/bin/docker").contains("exec podman \"$@\""), "the standard's wrapper")
        XCTAssertTrue(try fleet.output(port, "cat /usr/local/bin/docker.*~").contains("# docker -> podman, by hand"),
                      "the old wrapper is kept as a backup")
        XCTAssertEqual(try fleet.output(port, "systemctl is-active user@$(id -u alice).service"), "active\n", "alice lingers")
    }

    /// Docker Engine installed: the standard runs one runtime per host (§1.2) and its Docker CLI compatibility
    /// cannot coexist with Docker Engine (§6.2), so both playbooks refuse, naming the migration, before
    /// changing anything, in check mode too. With podman_docker_coexistence (§6.2) motoko.yml sets podman and
    /// its services up beside Docker, which keeps working.
    func testDockerHostIsRefusedUntouchedUnlessCoexistenceIsChosen() throws {
        let port = try shapedHost("docker-engine")
        let scratch = try Scratch()
        defer { scratch.remove() }
        let hosts = try inventory(in: scratch, servers: ["motoko": port], workstations: ["ws1": port])
        let before = try snapshot(port)
        for playbook in ["motoko.yml", "workstation.yml"] {
            for command in ["check", "apply"] {
                let refused = try scratch.provision([command, path(playbook), "-i", hosts, "--json"])
                XCTAssertEqual(refused.status, 2, "\(command) \(playbook): " + refused.stdout + refused.stderr)
                XCTAssertEqual(refused.recap("changed"), 0, refused.stdout)
                let failed = refused.tasks.filter { $0["status"] as? String == "failed" }
                XCTAssertEqual(failed.count, 1, refused.stdout)
                let message = failed.first?["message"] as? String ?? ""
                for words in ["Docker Engine is installed (docker.io)", "nothing was changed", "playbooks/migrate-docker.yml",
                              "podman_docker_coexistence: true"] {
                    XCTAssertTrue(message.contains(words), "\(command) \(playbook): '\(words)' missing from: \(message)")
                }
                XCTAssertEqual(try snapshot(port), before, "\(command) \(playbook) changed the host")
            }
        }
        XCTAssertEqual(try fleet.run(port, "command -v podman").status, 1, "podman was installed")

        try assertConverges("motoko.yml", on: port, scratch, inventory: hosts, extra: ["-e", "podman_docker_coexistence=true"])
        XCTAssertEqual(try fleet.output(port, "podman info --format '{{.Store.GraphRoot}}'"), "/space/containers/engine/podman\n")
        XCTAssertTrue(try fleet.output(port, "docker --version").hasPrefix("Docker version"), "docker stays Docker's")
        XCTAssertEqual(try fleet.run(port, "test -e /usr/local/bin/docker").status, 1, "no docker wrapper beside Docker")
        XCTAssertEqual(try fleet.output(port, "systemctl is-active docker.service litellm.service"), "active\nactive\n",
                       "the Docker daemon still runs, motoko's services beside it")
        XCTAssertEqual(try fleet.output(port, "docker images --format '{{.Repository}}:{{.Tag}}'"), "localhost/docker-shape:1\n",
                       "Docker's image is still there")
    }
}
