import Foundation
import XCTest
@testable import Provisioner

/// Ansible's default ssh_args share one connection per host for 60 s: a later run's
/// sessions ride on it, with no key exchange or login of their own.
final class SSHSharedConnectionTests: XCTestCase {
    func testALaterRunRidesOnTheConnectionTheFirstLeftOpen() throws {
        let server = try SSHTestServer.start()
        // Short: a socket path has at most 107 bytes.
        let sockets = "/tmp/pcp-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: sockets) }
        let config = try AnsibleConfig(text: "[ssh_connection]\ncontrol_path_dir = \(sockets)\n", path: nil)
        var variables = server.variables()
        variables["ansible_ssh_args"] = nil
        let target = try SSHTarget(host: "testhost", variables: variables, config: config)
        XCTAssertEqual(target.controlPathDirectory, sockets)
        let master = ["-o", "ControlPath=\(sockets)/%C", "-p", "\(server.port)", "\(server.user)@127.0.0.1"]
        defer { _ = try? TestSupport.runSpawned("/usr/bin/ssh", ["-O", "exit"] + master) }

        let first = try SSHTransport(host: "testhost", variables: variables, config: config)
        XCTAssertEqual(try first.observe([.command(["echo", "one"])]).command(["echo", "one"])?.stdout, "one\n")
        first.close()
        XCTAssertEqual(try TestSupport.runSpawned("/usr/bin/ssh", ["-O", "check"] + master).status, 0,
                       "no shared connection was left open")
        // With the listener gone, only the shared connection can serve the next run.
        server.stop()
        let second = try SSHTransport(host: "testhost", variables: variables, config: config)
        XCTAssertEqual(try second.observe([.command(["echo", "two"])]).command(["echo", "two"])?.stdout, "two\n")
        second.close()
    }

    /// The peer kit gives each inventory host its own connection to one sshd this way.
    func testAnsibleControlPathTemplates() throws {
        let config = try AnsibleConfig(text: "[ssh_connection]\ncontrol_path_dir = /cp\n", path: nil)
        let host = try SSHTarget(host: "h", variables: ValueDict([("ansible_control_path", "%(directory)s/fleet1-%%C")]), config: config)
        XCTAssertTrue(host.arguments(remoteCommand: "x").contains("ControlPath=/cp/fleet1-%C"))
        let fromConfig = try AnsibleConfig(text: "[ssh_connection]\ncontrol_path = /s/%%h-%%p\n", path: nil)
        let templated = try SSHTarget(host: "h", variables: ValueDict(), config: fromConfig)
        XCTAssertTrue(templated.arguments(remoteCommand: "x").contains("ControlPath=/s/%h-%p"))
        XCTAssertEqual(templated.controlPathDirectory, "/s", "the folder the socket goes in is the one made")
    }

    func testAControlPathFolderTooLongForASocketSharesNothing() throws {
        let long = "/tmp/" + String(repeating: "d", count: 60)
        let config = try AnsibleConfig(text: "[ssh_connection]\ncontrol_path_dir = \(long)\n", path: nil)
        let target = try SSHTarget(host: "h", variables: ValueDict(), config: config)
        XCTAssertNil(target.controlPathDirectory)
        XCTAssertFalse(target.arguments(remoteCommand: "x").contains { $0.hasPrefix("ControlPath=") })
    }
}
