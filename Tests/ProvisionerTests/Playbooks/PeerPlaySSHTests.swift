import Foundation
import XCTest

/// The peer kit at /tmp/peerbench (copied from ../shared/peerbench as its README
/// says) with its private sshd on 127.0.0.1:2201, set up the way its run.sh does.
enum PeerKitSSH {
    static let root = "/tmp/peerbench"

    /// Copies the kit when missing, makes its keys and sshd_config, starts sshd,
    /// and collects the host key into the kit's known_hosts (so keys are checked).
    /// Returns the sshd's pid (to stop it), or nil when one was already running.
    static func start() throws -> Int32? {
        let shared = TestSupport.packageRoot.deletingLastPathComponent().appendingPathComponent("shared/peerbench")
        guard FileManager.default.fileExists(atPath: root + "/ansible/podman-host.yml")
                || FileManager.default.fileExists(atPath: shared.path) else {
            throw XCTSkip("no peer kit: ../shared/peerbench is absent")
        }
        if !FileManager.default.fileExists(atPath: root + "/ansible/podman-host.yml") {
            try FileManager.default.copyItem(atPath: shared.path, toPath: root)
        }
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/sshd") else {
            if ProcessInfo.processInfo.environment["PROVISION_REQUIRE_INTEGRATION"] == "1" {
                XCTFail("sshd is not installed (scripts/test.sh installs openssh-server)")
            }
            throw XCTSkip("sshd is not installed")
        }
        let script = """
        set -e
        B=\(root)
        mkdir -p "$B/ssh" "$B/sshhome" "$B/.ansible/cp" /run/sshd
        chmod 700 "$B/ssh"
        [ -f "$B/ssh/id_ed25519" ] || {
          ssh-keygen -q -t ed25519 -N '' -C peerbench-hostkey -f "$B/ssh/ssh_host_ed25519_key"
          ssh-keygen -q -t ed25519 -N '' -C peerbench-client -f "$B/ssh/id_ed25519"
          cp "$B/ssh/id_ed25519.pub" "$B/ssh/authorized_keys"; chmod 600 "$B/ssh/authorized_keys"; }
        sed -n '/cat > "\\$B\\/ssh\\/sshd_config" <<EOF/,/^EOF/p' "$B/run.sh" | sed '1d;$d' | sed "s#\\$B#$B#g" > "$B/ssh/sshd_config"
        if [ -f "$B/ssh/sshd.pid" ] && kill -0 "$(cat "$B/ssh/sshd.pid")" 2>/dev/null; then echo reused; else
          /usr/sbin/sshd -f "$B/ssh/sshd_config" -E "$B/ssh/sshd.log"
          for _ in $(seq 50); do [ -s "$B/ssh/sshd.pid" ] && break; sleep 0.1; done
          cat "$B/ssh/sshd.pid"; fi
        for _ in $(seq 50); do
          ssh-keyscan -p 2201 -t ed25519 127.0.0.1 2>/dev/null > "$B/ssh/known_hosts"
          [ -s "$B/ssh/known_hosts" ] && break; sleep 0.1; done
        [ -s "$B/ssh/known_hosts" ]
        """
        let result = try TestSupport.runSpawned("/bin/sh", ["-c", script])
        guard result.status == 0 else { throw XCTSkip("the peer kit's sshd did not start: \(result.stderr)") }
        return Int32(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    static func stop(_ pid: Int32?) {
        if let pid { kill(pid, SIGTERM) }
    }

    static var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["ANSIBLE_CONFIG"] = root + "/ansible/ansible.cfg"
        environment["PEERBENCH_DIR"] = root
        return environment
    }

    static func statecheck(_ folder: String) throws -> String {
        try TestSupport.run("/bin/sh", [root + "/bin/statecheck.sh", folder]).stdout
    }
}

/// The peer play over ssh, to one host and to the 5-host fleet, unchanged, reaches
/// the same end state as ansible-playbook with the kit's own ANSIBLE_CONFIG.
final class PeerPlaySSHTests: XCTestCase {
    var sshd: Int32?

    override func setUpWithError() throws { sshd = try PeerKitSSH.start() }
    override func tearDown() { PeerKitSSH.stop(sshd) }

    func ansible() throws -> String { try TestSupport.ansiblePlaybook() }

    func run(_ tool: String, _ arguments: [String]) throws -> TestSupport.Result {
        try TestSupport.run(tool, arguments, environment: PeerKitSSH.environment, in: URL(fileURLWithPath: PeerKitSSH.root))
    }

    func testOneHostOverSSHReachesAnsiblesEndState() throws {
        let ansible = try ansible()
        let binary = try TestSupport.provisionBinary().path
        let play = "ansible/podman-host.yml", inventory = "ansible/inventory/ssh.ini"
        let reference = try run(ansible, ["-i", inventory, play, "-e", "peer_root=/tmp/peerbench/ssh-ansible"])
        XCTAssertEqual(reference.status, 0, reference.stdout + reference.stderr)
        _ = try TestSupport.run("/bin/rm", ["-rf", "/tmp/peerbench/ssh-provision"])
        let first = try run(binary, ["apply", play, "-i", inventory, "-e", "peer_root=/tmp/peerbench/ssh-provision", "--json"])
        XCTAssertEqual(first.status, 0, first.stdout + first.stderr)
        XCTAssertEqual(first.recap("changed"), 12, first.stdout)
        XCTAssertEqual(try PeerKitSSH.statecheck("/tmp/peerbench/ssh-provision"), try PeerKitSSH.statecheck("/tmp/peerbench/ssh-ansible"))
        let before = try PeerKitSSH.statecheck("/tmp/peerbench/ssh-provision")
        let check = try run(binary, ["check", play, "-i", inventory, "-e", "peer_root=/tmp/peerbench/ssh-provision", "--json"])
        XCTAssertEqual(check.recap("changed"), 0, check.stdout + check.stderr)
        let second = try run(binary, ["apply", play, "-i", inventory, "-e", "peer_root=/tmp/peerbench/ssh-provision", "--json"])
        XCTAssertEqual(second.recap("changed"), 0, second.stdout + second.stderr)
        XCTAssertEqual(second.recap("round_trips"), 1, "a converged host costs one round trip")
        XCTAssertEqual(try PeerKitSSH.statecheck("/tmp/peerbench/ssh-provision"), before)
    }

    func testFleetOfFiveOverSSHReachesAnsiblesEndState() throws {
        let ansible = try ansible()
        let binary = try TestSupport.provisionBinary().path
        let play = "ansible/podman-host.yml", inventory = "ansible/inventory/fleet.ini"
        let hosts = (1...5).map { "/tmp/peerbench/fleet/fleet\($0)" }
        _ = try TestSupport.run("/bin/rm", ["-rf", "/tmp/peerbench/fleet"])
        let reference = try run(ansible, ["-i", inventory, "-f", "5", play])
        XCTAssertEqual(reference.status, 0, reference.stdout + reference.stderr)
        let expected = try hosts.map(PeerKitSSH.statecheck)
        _ = try TestSupport.run("/bin/rm", ["-rf", "/tmp/peerbench/fleet"])
        let start = Date()
        let first = try run(binary, ["apply", play, "-i", inventory, "--json"])
        XCTAssertEqual(first.status, 0, first.stdout + first.stderr)
        XCTAssertEqual(first.recap("changed"), 60, first.stdout)
        XCTAssertEqual(try hosts.map(PeerKitSSH.statecheck), expected)
        let second = try run(binary, ["apply", play, "-i", inventory, "--json"])
        XCTAssertEqual(second.recap("changed"), 0, second.stdout + second.stderr)
        XCTAssertEqual(second.recap("round_trips"), 5, "one round trip per converged host")
        XCTAssertLessThan(Date().timeIntervalSince(start), 60, "a hung session would show here")
    }
}
