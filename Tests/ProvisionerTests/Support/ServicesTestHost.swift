import Foundation
import XCTest

/// A nested Debian trixie test host for the services' tests (quadlet, image, container): the first host of
/// the fleet in PROVISION_SERVICES_HOSTS_DIR, made a podman host by the standard's own role (with the
/// test-host quirks of testhosts/standard/group_vars) once per test run. Start it with
/// `PROVISION_TESTHOSTS_DIR=/var/tmp/provision-testhosts-services PROVISION_TESTHOSTS_PORT=22351
/// PROVISION_TESTHOSTS_MODE=nested testhosts/fleet-up.sh 1 trixie` (scripts/test.sh does this).
struct ServicesTestHost {
    static let folder = ProcessInfo.processInfo.environment["PROVISION_SERVICES_HOSTS_DIR"] ?? "/var/tmp/provision-testhosts-services"
    /// The stand-in images' archives (testhosts/services/build-standins.sh), on the controller.
    static let standIns = "/var/tmp/provision-standins"
    private static let prepared = Prepared()

    let fleet: TestFleet
    var port: Int { fleet.hosts[0].port }
    var container: String { fleet.hosts[0].container }

    init() throws {
        fleet = try TestFleet(folder: ServicesTestHost.folder, count: 1,
                              start: "PROVISION_TESTHOSTS_DIR=\(ServicesTestHost.folder) PROVISION_TESTHOSTS_PORT=22351 "
                                  + "PROVISION_TESTHOSTS_MODE=nested testhosts/fleet-up.sh 1 trixie")
        try ServicesTestHost.prepared.once { try prepare() }
    }

    /// An inventory with the host as `th` and the standard's test-host quirks beside it.
    func inventory(in scratch: Scratch) throws -> String {
        let path = try scratch.write("inventory/hosts.yml", """
        all:
          vars:
        \(fleet.connectionVariables)
          hosts:
            th: {ansible_port: \(port)}

        """)
        let quirks = TestSupport.packageRoot.appendingPathComponent("testhosts/standard/group_vars").path
        try? FileManager.default.createSymbolicLink(atPath: scratch.path + "/inventory/group_vars", withDestinationPath: quirks)
        return path
    }

    /// Podman (the standard's role: packages, quirks, the rootless user alice with linger), busybox for
    /// checks from the host itself, and the stand-in archives on the controller.
    private func prepare() throws {
        let build = try TestSupport.runSpawned(TestSupport.packageRoot.appendingPathComponent("testhosts/services/build-standins.sh").path,
                                               [ServicesTestHost.standIns])
        guard build.status == 0 else { throw TestHostError("building the stand-in images failed: \(build.stderr)") }
        let scratch = try Scratch()
        defer { scratch.remove() }
        let role = TestSupport.packageRoot.appendingPathComponent("playbooks/roles/podman_standard_linux").path
        let play = try scratch.write("podman.yml", "- hosts: all\n  roles: [\(role)]\n")
        let result = try scratch.provision(["apply", play, "-i", try inventory(in: scratch)])
        guard result.status == 0 else { throw TestHostError("the podman standard did not converge on the test host:\n\(result.stdout)\(result.stderr)") }
        _ = try fleet.output(port, "command -v busybox >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q busybox-static >/dev/null")
    }

    func run(_ command: String) throws -> TestSupport.Result { try fleet.run(port, command) }

    /// Copies a stand-in image's archive to /var/tmp/NAME.tar on the host.
    func copyStandIn(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let copy = try TestSupport.runSpawned("/usr/bin/scp", ["-q", "-o", "BatchMode=yes", "-o", "UserKnownHostsFile=\(fleet.folder)/known_hosts",
                                                             "-i", "\(fleet.folder)/id_ed25519", "-P", "\(port)",
                                                             ServicesTestHost.standIns + "/\(name).tar", "root@127.0.0.1:/var/tmp/\(name).tar"])
        XCTAssertEqual(copy.status, 0, copy.stderr, file: file, line: line)
    }

    func output(_ command: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        try fleet.output(port, command, file: file, line: line)
    }

    /// What an HTTP GET from the host itself answers ("" when nothing does).
    func get(_ url: String) throws -> String { try run("busybox wget -q -T 5 -O - \(url)").stdout }

    /// `systemctl` of root's or alice's manager.
    func systemctl(_ arguments: String, user: String? = nil) throws -> TestSupport.Result {
        guard let user else { return try run("systemctl \(arguments)") }
        return try run("runuser -u \(user) -- env XDG_RUNTIME_DIR=/run/user/$(id -u \(user)) systemctl --user \(arguments)")
    }

    /// Main PIDs of units (`unit` or `alice:unit`), to tell restarted units from untouched ones.
    func mainPIDs(_ units: [String]) throws -> [String: String] {
        var pids: [String: String] = [:]
        for unit in units {
            let parts = unit.split(separator: ":").map(String.init)
            let result = try systemctl("show -p MainPID --value \(parts.last ?? unit)", user: parts.count == 2 ? parts[0] : nil)
            pids[unit] = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return pids
    }

    /// What `--check` must leave alone: unit files, units (`systemctl list-units`, without the transient
    /// ones every ssh login and health check makes), containers, volumes, networks — root's and alice's.
    func snapshot() throws -> String {
        try output(#"""
        export PODMAN_IGNORE_CGROUPSV1_WARNING=1
        units() { "$@" list-units --all --plain --no-legend --no-pager | awk '{print $1, $2, $3, $4}' | grep -Ev '^(session-|run-|[0-9a-f]{64}-)' | sort; }
        find /etc/containers/systemd /home/alice/.config/containers/systemd -type f -exec sha256sum {} + 2>/dev/null | sort
        units systemctl
        podman ps -a --format '{{.ID}} {{.Names}} {{.Status}}' | sed 's/ (.*//; s/Up .*/Up/'
        podman volume ls -q; podman network ls -q
        runuser -u alice -- sh -c 'cd /; export XDG_RUNTIME_DIR=/run/user/$(id -u); podman ps -a --format "{{.ID}} {{.Names}}"; systemctl --user list-units --all --plain --no-legend --no-pager | awk "{print \$1, \$2, \$3, \$4}" | sort'
        """#)
    }

    /// Restarts the test host's container (its systemd boots again) and waits until it answers.
    func reboot() throws { try fleet.reboot() }
}

struct TestHostError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs a preparation once per test process; a failed one fails every test that needs it.
private final class Prepared: @unchecked Sendable {
    private let lock = NSLock()
    private var outcome: Result<Void, Error>?

    func once(_ body: () throws -> Void) throws {
        lock.lock()
        defer { lock.unlock() }
        if outcome == nil { outcome = Result { try body() } }
        try outcome?.get()
    }
}
