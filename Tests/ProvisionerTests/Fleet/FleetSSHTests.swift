import Foundation
import XCTest

/// The engine over ssh against real test hosts (systemd as PID 1, sshd, sudo):
/// `testhosts/fleet-up.sh 3` starts them; CI does, and sets PROVISION_REQUIRE_TESTHOSTS=1.
final class FleetSSHTests: XCTestCase {
    static let folder = ProcessInfo.processInfo.environment["PROVISION_TESTHOSTS_DIR"] ?? "/var/tmp/provision-testhosts"
    var fleet: TestFleet?
    var inventory: String { FleetSSHTests.folder + "/inventory.yml" }
    var hosts: [(name: String, port: Int, container: String)] { fleet?.hosts ?? [] }

    override func setUpWithError() throws {
        fleet = try TestFleet(folder: FleetSSHTests.folder, count: 3, start: "testhosts/fleet-up.sh 3")
    }

    /// Runs a shell command on a test host over plain ssh (to check what provision did).
    func onHost(_ port: Int, _ command: String, user: String = "root") throws -> String {
        try fleet.map { try $0.run(port, command, user: user).stdout } ?? ""
    }

    func provision(_ scratch: Scratch, _ arguments: [String]) throws -> TestSupport.Result {
        try scratch.provision(arguments + ["-i", inventory])
    }

    /// Every building-block task kind, applied over ssh to three hosts: the second run changes nothing.
    func testBuildingBlocksOverSSHConvergeAndCheckChangesNothing() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("play.yml", EngineApplyTests.everyTaskKind
            .replacingOccurrences(of: "hosts: localhost", with: "hosts: all")
            .replacingOccurrences(of: "provtest-", with: "sshtest-"))
        try scratch.write("files/payload.txt", "payload\n")
        try scratch.write("templates/app.ini.j2", "[app]\n{% for w in words %}{{ w }} = {{ loop.index }}\n{% endfor %}")
        let root = scratch.path + "/root"
        let snapshot = "find \(root) -printf '%p %y %m %u %s %T@\\n' 2>/dev/null | sort; find \(root) -type f -exec sha256sum {} + 2>/dev/null | sort"

        // An unconverged but present tree (a link's source must exist even in check mode, as in Ansible).
        // The user task needs its group, and `read back` reads extra.conf, in check mode too.
        for host in hosts {
            _ = try onHost(host.port, "mkdir -p \(root)/etc/app && echo 'a = 0' > \(root)/etc/app/app.conf"
                + " && echo 'b = 2' > \(root)/etc/app/extra.conf && groupadd -r sshtest-g1")
        }
        let before = try hosts.map { try onHost($0.port, snapshot) }
        let check = try provision(scratch, ["check", "play.yml", "--json"])
        XCTAssertGreaterThan(check.recap("changed"), 20, check.stdout + check.stderr)
        XCTAssertEqual(try hosts.map { try onHost($0.port, snapshot) }, before, "--check changed a host")

        let first = try provision(scratch, ["apply", "play.yml", "--json"])
        XCTAssertEqual(first.status, 0, first.stdout + first.stderr)
        XCTAssertEqual(first.recap("rescued"), 3)
        for host in hosts {
            XCTAssertEqual(try onHost(host.port, "cat \(root)/etc/app/app.ini"), "[app]\nalpha = 1\nbeta = 2\n")
            XCTAssertEqual(try onHost(host.port, "id -gn sshtest-u1"), "sshtest-g1\n")
        }
        let converged = try hosts.map { try onHost($0.port, snapshot) }
        let second = try provision(scratch, ["apply", "play.yml", "--json"])
        XCTAssertEqual(second.status, 0, second.stdout + second.stderr)
        XCTAssertEqual(second.recap("changed"), 0, second.stdout)
        XCTAssertEqual(try hosts.map { try onHost($0.port, snapshot) }, converged, "a converged run touched a host")
        for host in hosts { _ = try onHost(host.port, "userdel sshtest-u1; groupdel sshtest-g1; rm -rf \(root)") }
    }

    /// `become` to root from `tester`, and `become_user` to a rootless account.
    func testBecomeRootFromTesterAndBecomeARootlessUser() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("play.yml", """
        - hosts: th1
          gather_facts: false
          vars: {ansible_user: tester}
          tasks:
            - name: a rootless account (as root)
              user: {name: rootless1, create_home: true, shell: /bin/sh}
              become: true
            - name: a root-owned file
              copy: {dest: /etc/provision-become-test, content: "root\\n"}
              become: true
            - name: a file of the rootless account
              copy: {dest: /home/rootless1/mine.txt, content: "mine\\n"}
              become: true
              become_user: rootless1
            - name: who am I without become
              command: id -un
              register: plain
              changed_when: false
            - assert: {that: ["plain.stdout == 'tester'"]}
        """)
        let run = try provision(scratch, ["apply", "play.yml"])
        XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
        let port = hosts[0].port
        XCTAssertEqual(try onHost(port, "stat -c %U /etc/provision-become-test"), "root\n")
        XCTAssertEqual(try onHost(port, "stat -c %U /home/rootless1/mine.txt"), "rootless1\n")
        _ = try onHost(port, "rm -f /etc/provision-become-test; userdel -r rootless1")
    }

    func testAnUnknownHostKeyIsRefusedWithTheFix() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("empty_known_hosts", "")
        try scratch.write("hosts.ini", "th1 ansible_host=127.0.0.1 ansible_port=\(hosts[0].port) ansible_user=root"
            + " ansible_ssh_private_key_file=\(FleetSSHTests.folder)/id_ed25519"
            + " ansible_ssh_common_args='-o UserKnownHostsFile=\(scratch.path)/empty_known_hosts -o GlobalKnownHostsFile=/dev/null'"
            // A connection shared by an earlier test would skip the host key check, as it does for ssh itself.
            + " ansible_ssh_args=''\n")
        try scratch.write("play.yml", "- hosts: all\n  gather_facts: false\n  tasks:\n    - copy: {dest: /tmp/never, content: x}\n")
        let run = try scratch.provision(["apply", "play.yml", "-i", "hosts.ini"])
        XCTAssertEqual(run.status, 4, run.stdout + run.stderr)
        XCTAssertTrue(run.stdout.contains("ssh-keyscan"), run.stdout)
        XCTAssertEqual(try onHost(hosts[0].port, "test -e /tmp/never && echo yes || echo no"), "no\n")
    }

    /// As in Ansible 2.19 (checked with ansible-playbook): with max_fail_percentage 0 one failure in
    /// a batch stops the play there, for the rest of that batch and for later batches.
    func testSerialBatchFailureStopsTheRestOverSSH() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("play.yml", """
        - hosts: all
          gather_facts: false
          serial: 2
          max_fail_percentage: 0
          tasks:
            - copy: {dest: /tmp/provision-serial-started, content: "x"}
            - fail: {msg: th2 fails}
              when: inventory_hostname == 'th2'
            - copy: {dest: /tmp/provision-serial-done, content: "x"}
        """)
        let run = try provision(scratch, ["apply", "play.yml", "--json"])
        XCTAssertEqual(run.status, 2, run.stdout + run.stderr)
        let seen = try hosts.map {
            try onHost($0.port, """
            for f in started done; do test -e /tmp/provision-serial-$f && printf '%s ' $f; done; rm -f /tmp/provision-serial-*
            """)
        }
        XCTAssertEqual(seen, ["started ", "started ", ""])
    }

    /// Named so it runs last in this class: it stops a host (and starts it again after).
    func testZHostStoppedMidRunIsUnreachableWhileTheOthersFinish() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("play.yml", """
        - hosts: all
          gather_facts: false
          tasks:
            - name: take a while
              command: sleep 4
            - name: after the wait
              copy: {dest: /tmp/provision-after-wait, content: "x"}
        """)
        let victim = hosts[1]
        let stopper = Thread {
            Thread.sleep(forTimeInterval: 1.5)
            _ = try? TestSupport.runSpawned("/usr/bin/podman", ["stop", "-t", "0", victim.container])
        }
        stopper.start()
        let run = try provision(scratch, ["apply", "play.yml"])
        defer {
            _ = try? TestSupport.runSpawned("/usr/bin/podman", ["start", victim.container])
            for _ in 0..<50 where (try? onHost(victim.port, "true")) == nil { Thread.sleep(forTimeInterval: 0.2) }
        }
        XCTAssertEqual(run.status, 4, run.stdout + run.stderr)
        XCTAssertTrue(run.stdout.contains("fatal: [th2]: UNREACHABLE!"), run.stdout)
        XCTAssertTrue(run.stdout.range(of: #"th2 +: ok=\d+ +changed=\d+ +unreachable=1"#, options: .regularExpression) != nil, run.stdout)
        for host in [hosts[0], hosts[2]] {
            XCTAssertEqual(try onHost(host.port, "cat /tmp/provision-after-wait; rm -f /tmp/provision-after-wait"), "x")
        }
    }
}
