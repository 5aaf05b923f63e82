import Foundation
import XCTest
@testable import Provisioner

/// The ssh transport against real test hosts (systemd as PID 1, sshd, sudo) started
/// by `testhosts/fleet-up.sh N`. Skipped when no fleet is up, unless
/// PROVISION_REQUIRE_TESTHOSTS=1 (then a missing fleet is a failure).
final class SSHTestHostTests: XCTestCase {
    private struct Host { var name: String; var port: Int }
    private var state: String!
    private var hosts: [Host] = []

    override func setUpWithError() throws {
        state = ProcessInfo.processInfo.environment["PROVISION_TESTHOSTS_DIR"] ?? "/var/tmp/provision-testhosts"
        let fleet = (try? String(contentsOfFile: state + "/fleet", encoding: .utf8)) ?? ""
        hosts = fleet.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count >= 2, let port = Int(fields[1]) else { return nil }
            return Host(name: String(fields[0]), port: port)
        }
        if hosts.isEmpty {
            if ProcessInfo.processInfo.environment["PROVISION_REQUIRE_TESTHOSTS"] == "1" {
                throw SSHTestError("no test hosts are up (testhosts/fleet-up.sh N), and PROVISION_REQUIRE_TESTHOSTS=1")
            }
            throw XCTSkip("no test hosts are up: run testhosts/fleet-up.sh 2 to include these tests")
        }
    }

    private func variables(_ host: Host, user: String = "root") -> ValueDict {
        ValueDict([
            ("ansible_host", "127.0.0.1"), ("ansible_port", .int(host.port)), ("ansible_user", .string(user)),
            ("ansible_ssh_private_key_file", .string(state + "/id_ed25519")),
            ("ansible_ssh_common_args", .string("-o UserKnownHostsFile=\(state!)/known_hosts -o IdentitiesOnly=yes")),
        ])
    }

    /// A unit file written, loaded and started over ssh on every host at once.
    func testSystemdUnitOnEveryHost() throws {
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: hosts.count) { index in
            let host = hosts[index]
            do {
                let transport = try SSHTransport(host: host.name, variables: variables(host))
                let unit = "/etc/systemd/system/provision-probe.service"
                let observed = try transport.observe([
                    .file(path: unit, content: true), .command(["cat", "/proc/1/comm"]), .command(["id", "-un"]),
                ])
                XCTAssertEqual(observed.command(["cat", "/proc/1/comm"])?.stdout, "systemd\n")
                XCTAssertEqual(transport.roundTrips, 1)
                let text = "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n"
                _ = try transport.perform(.writeFile(path: unit, content: Array(text.utf8),
                                                     attributes: FileAttributes(mode: 0o644), backup: observed.file(unit) != nil))
                for argv in [["systemctl", "daemon-reload"], ["systemctl", "restart", "provision-probe.service"]] {
                    let result = try transport.perform(.run(Command(argv)))
                    if result.output?.status != 0 { failures.add("\(host.name): \(argv): \(String(describing: result.output))") }
                }
                let active = try transport.observe([.command(["systemctl", "is-active", "provision-probe.service"])])
                XCTAssertEqual(active.command(["systemctl", "is-active", "provision-probe.service"])?.stdout, "active\n")
                // Leave the host as it was: the fleet may be someone else's.
                _ = try transport.perform(.run(Command(["systemctl", "stop", "provision-probe.service"])))
                _ = try transport.perform(.remove(path: unit))
                _ = try transport.perform(.run(Command(["systemctl", "daemon-reload"])))
            } catch {
                failures.add("\(host.name): \(error)")
            }
        }
        XCTAssertEqual(failures.all, [])
    }

    /// tester logs in and becomes root with sudo -n; root becomes tester (lingering)
    /// and reaches its user manager through XDG_RUNTIME_DIR.
    func testBecomeBothWays() throws {
        let host = try XCTUnwrap(hosts.first)
        let connection = try SSHConnection(host: host.name, variables: variables(host, user: "tester"))
        let root = try connection.transport(becoming: Become())
        XCTAssertEqual(try root.perform(.run(Command(["id", "-un"]))).output?.stdout, "root\n")
        let lingering = try root.observe([.file(path: "/var/lib/systemd/linger/tester", content: false)])
            .file("/var/lib/systemd/linger/tester") != nil
        XCTAssertEqual(try root.perform(.run(Command(["loginctl", "enable-linger", "tester"]))).output?.status, 0)

        let asRoot = try SSHConnection(host: host.name, variables: variables(host))
        let tester = try asRoot.transport(becoming: Become(user: "tester"))
        var manager: CommandOutput?
        for _ in 0..<50 {
            manager = try tester.perform(.run(Command(["systemctl", "--user", "is-system-running"]))).output
            if let state = manager?.stdout, state.hasPrefix("running") || state.hasPrefix("degraded") { break }
            usleep(100_000)
        }
        XCTAssertTrue(manager?.stdout.hasPrefix("running") == true || manager?.stdout.hasPrefix("degraded") == true,
                      "\(String(describing: manager))")
        if !lingering { _ = try root.perform(.run(Command(["loginctl", "disable-linger", "tester"]))) }
    }
}

private final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ item: String) { lock.lock(); items.append(item); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return items }
}
