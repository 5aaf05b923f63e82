import Foundation
import XCTest

/// A fleet of test hosts started by `testhosts/fleet-up.sh` (its state folder holds the key,
/// known_hosts, the inventory and a `fleet` file of "HOST PORT CONTAINER" lines).
struct TestFleet {
    let folder: String
    let hosts: [(name: String, port: Int, container: String)]

    /// The fleet in `folder`, or a skip (a failure when PROVISION_REQUIRE_TESTHOSTS=1) when fewer
    /// than `count` hosts are up; `start` says how to start them.
    init(folder: String, count: Int, start: String) throws {
        self.folder = folder
        let fleet = (try? String(contentsOfFile: folder + "/fleet", encoding: .utf8)) ?? ""
        hosts = fleet.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ")
            guard parts.count == 3, let port = Int(parts[1]) else { return nil }
            return (String(parts[0]), port, String(parts[2]))
        }
        guard hosts.count >= count, FileManager.default.fileExists(atPath: folder + "/inventory.yml") else {
            if ProcessInfo.processInfo.environment["PROVISION_REQUIRE_TESTHOSTS"] == "1" {
                XCTFail("no test hosts in \(folder): \(start) must run first")
            }
            throw XCTSkip("no test hosts are up in \(folder): run \(start) to include these tests")
        }
    }

    var inventory: String { folder + "/inventory.yml" }

    /// The ssh options that reach these hosts with their host keys checked.
    var sshArguments: String { "-o UserKnownHostsFile=\(folder)/known_hosts -o IdentitiesOnly=yes" }

    /// The variables that reach these hosts as root, for an inventory's `all: vars:` (indented for it).
    var connectionVariables: String {
        """
            ansible_user: root
            ansible_host: 127.0.0.1
            ansible_ssh_private_key_file: \(folder)/id_ed25519
            ansible_ssh_common_args: \(sshArguments)
        """
    }

    /// Runs a shell command on a host over plain ssh (to check what provision did).
    func run(_ port: Int, _ command: String, user: String = "root") throws -> TestSupport.Result {
        try TestSupport.runSpawned("/usr/bin/ssh", ["-o", "BatchMode=yes", "-o", "UserKnownHostsFile=\(folder)/known_hosts",
                                                    "-i", "\(folder)/id_ed25519", "-p", "\(port)", "\(user)@127.0.0.1", command])
    }

    /// Restarts a host's container (its systemd boots again) and waits until it answers over ssh.
    func reboot(_ index: Int = 0) throws {
        let (port, container) = (hosts[index].port, hosts[index].container)
        // posix_spawn, not Process: podman closes the descriptor Process watches, which then never returns.
        let restart = try TestSupport.runSpawned("/usr/bin/podman", ["restart", "--time", "20", container])
        guard restart.status == 0 else { throw TestHostError("podman restart \(container) failed: \(restart.stderr)") }
        // As fleet-up does: a passed device comes back with this machine's mode; rootless networking needs 0666.
        _ = try TestSupport.runSpawned("/usr/bin/podman", ["exec", container, "chmod", "666", "/dev/net/tun"])
        let deadline = Date().addingTimeInterval(90)
        while Date() < deadline {
            if let result = try? run(port, "systemctl is-system-running --wait >/dev/null 2>&1; true"), result.status == 0 { return }
            Thread.sleep(forTimeInterval: 1)
        }
        throw TestHostError("\(container) did not answer over ssh within 90 s of its restart")
    }

    /// The output of a command that must succeed.
    func output(_ port: Int, _ command: String, user: String = "root",
                file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let result = try run(port, command, user: user)
        XCTAssertEqual(result.status, 0, "`\(command)` failed on port \(port): \(result.stdout)\(result.stderr)", file: file, line: line)
        return result.stdout
    }
}
