import Foundation
import XCTest

/// The real `provision` converging real files on this machine (local transport).
final class EngineApplyTests: XCTestCase {
    static let everyTaskKind = """
    - name: every task kind
      hosts: localhost
      gather_facts: false
      vars:
        root: "{{ playbook_dir }}/root"
        words: [alpha, beta]
      tasks:
        - name: directory
          ansible.builtin.file: {path: "{{ root }}/etc/app", state: directory, mode: "0750"}
        - name: touch, times preserved
          file: {path: "{{ root }}/etc/app/flag", state: touch, mode: "0600", modification_time: preserve, access_time: preserve}
        - name: link
          file: {src: "{{ root }}/etc/app", dest: "{{ root }}/etc/app-link", state: link}
        - name: absent
          file: {path: "{{ root }}/gone", state: absent}
        - name: copy content
          ansible.builtin.copy: {dest: "{{ root }}/etc/app/app.conf", content: "a = 1\\n", mode: "0644"}
          notify: app changed
        - name: copy src
          copy: {src: payload.txt, dest: "{{ root }}/etc/app/payload.txt", mode: "0640"}
        - name: template
          template: {src: app.ini.j2, dest: "{{ root }}/etc/app/app.ini"}
        - name: lineinfile
          lineinfile: {path: "{{ root }}/etc/app/extra.conf", regexp: '^b =', line: "b = 2", create: true}
        - name: command, idempotent through creates
          command: touch {{ root }}/etc/app/made
          args: {creates: "{{ root }}/etc/app/made"}
        - name: shell in a loop
          shell: "echo {{ item }} > {{ root }}/etc/app/{{ item }}.txt"
          args: {creates: "{{ root }}/etc/app/{{ item }}.txt"}
          loop: "{{ words }}"
          loop_control: {label: "{{ item | upper }}"}
        - name: group
          group: {name: provtest-g1, system: true}
        - name: user
          user: {name: provtest-u1, group: provtest-g1, system: true, create_home: false, shell: /usr/sbin/nologin}
        - name: read back
          command: cat {{ root }}/etc/app/extra.conf
          register: conf
          changed_when: false
          check_mode: false
        - name: use the registered result
          copy: {dest: "{{ root }}/etc/app/lines", content: "{{ conf.stdout_lines | length }}\\n"}
          when: conf.rc == 0
        - set_fact: {answer: 42}
        - assert: {that: ["answer == 42", "'b = 2' in conf.stdout"]}
        - block:
            - fail: {msg: boom}
          rescue:
            - copy: {dest: "{{ root }}/etc/app/rescued", content: "yes\\n"}
      handlers:
        - name: app changed
          copy: {dest: "{{ root }}/etc/app/handler-ran", content: "1\\n"}
    """

    func makeScratch() throws -> Scratch {
        let scratch = try Scratch()
        try scratch.write("play.yml", EngineApplyTests.everyTaskKind)
        try scratch.write("files/payload.txt", "payload\n")
        try scratch.write("templates/app.ini.j2", "[app]\n{% for w in words %}{{ w }} = {{ loop.index }}\n{% endfor %}")
        return scratch
    }

    override func tearDown() {
        // The user and group are real: remove them whatever the test did.
        _ = try? TestSupport.run("/usr/sbin/userdel", ["provtest-u1"])
        _ = try? TestSupport.run("/usr/sbin/groupdel", ["provtest-g1"])
    }

    func testEveryTaskKindConvergesAndTheSecondRunChangesNothing() throws {
        try XCTSkipUnless(geteuid() == 0, "user/group tasks need root")
        let scratch = try makeScratch()
        defer { scratch.remove() }
        let first = try scratch.provision(["apply", "play.yml", "--json"])
        XCTAssertEqual(first.status, 0, first.stdout + first.stderr)
        XCTAssertGreaterThan(first.recap("changed"), 10, first.stdout)
        XCTAssertEqual(first.recap("rescued"), 1)
        XCTAssertEqual(scratch.read("root/etc/app/app.conf"), "a = 1\n")
        XCTAssertEqual(scratch.read("root/etc/app/extra.conf"), "b = 2\n")
        XCTAssertEqual(scratch.read("root/etc/app/app.ini"), "[app]\nalpha = 1\nbeta = 2\n")
        // A lone "{{ expr }}" keeps its type (an int here) and the newline after it goes, as in Ansible 2.19.
        XCTAssertEqual(scratch.read("root/etc/app/lines"), "1")
        XCTAssertEqual(scratch.read("root/etc/app/handler-ran"), "1\n")
        XCTAssertEqual(scratch.read("root/etc/app/beta.txt"), "beta\n")
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: scratch.path + "/root/etc/app-link"), scratch.path + "/root/etc/app")
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: scratch.path + "/root/etc/app")[.posixPermissions] as? Int, 0o750)
        XCTAssertEqual(try TestSupport.run("/usr/bin/id", ["-gn", "provtest-u1"]).stdout, "provtest-g1\n")

        let before = try scratch.snapshot("root")
        let second = try scratch.provision(["apply", "play.yml", "--json"])
        XCTAssertEqual(second.status, 0, second.stdout + second.stderr)
        XCTAssertEqual(second.recap("changed"), 0, second.stdout)
        XCTAssertEqual(try scratch.snapshot("root"), before, "a converged run touched files")
    }

    func testCheckModeOnAnUnconvergedTreeChangesNothing() throws {
        let scratch = try makeScratch()
        defer { scratch.remove() }
        try scratch.write("root/etc/app/app.conf", "a = 0\n")
        try scratch.write("root/etc/app/extra.conf", "b = 2\n")
        let before = try scratch.snapshot()
        let check = try scratch.provision(["check", "play.yml", "--json"])
        XCTAssertEqual(try scratch.snapshot(), before, "check mode changed the tree:\n" + check.stdout)
        XCTAssertGreaterThan(check.recap("changed"), 5, check.stdout + check.stderr)
        let diffs = check.tasks.flatMap { $0["diff"] as? [[String: Any]] ?? [] }
        XCTAssertTrue(diffs.contains { ($0["unified"] as? String ?? "").contains("-a = 0\n+a = 1\n") }, "\(diffs)")
    }

    func testDiffIsAUnifiedDiffAsDiffUWritesIt() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let old = (1...12).map { "line \($0)" }.joined(separator: "\n") + "\n"
        var lines = (1...12).map { "line \($0)" }
        lines[1] = "line two"
        lines[9] = "line ten"
        lines.append("line 13")
        let new = lines.joined(separator: "\n") + "\n"
        try scratch.write("f.txt", old)
        try scratch.write("new.txt", new)
        try scratch.write("play.yml", """
        - hosts: localhost
          gather_facts: false
          tasks:
            - copy: {dest: "{{ playbook_dir }}/f.txt", content: "{{ lookup('file', playbook_dir + '/new.txt') }}\\n"}
        """)
        let run = try scratch.provision(["apply", "play.yml", "--check", "--diff", "--json"])
        let unified = try XCTUnwrap(run.tasks.compactMap { ($0["diff"] as? [[String: Any]])?.first?["unified"] as? String }.first, run.stdout + run.stderr)
        let reference = try TestSupport.run("/usr/bin/diff", ["-u", scratch.path + "/f.txt", scratch.path + "/new.txt"]).stdout
        func hunks(_ text: String) -> [Substring] { text.split(separator: "\n").filter { !$0.hasPrefix("---") && !$0.hasPrefix("+++") } }
        XCTAssertEqual(hunks(unified), hunks(reference))
        XCTAssertEqual(scratch.read("f.txt"), old)
    }

    func testAFailedWriteLeavesNoHalfWrittenFile() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("data/app.conf", "original\n")
        try scratch.write("play.yml", """
        - hosts: localhost
          gather_facts: false
          tasks:
            - copy: {dest: "{{ playbook_dir }}/data/app.conf", content: "new\\n", owner: provtest-no-such-user}
        """)
        let run = try scratch.provision(["apply", "play.yml"])
        XCTAssertEqual(run.status, 2, run.stdout + run.stderr)
        XCTAssertTrue(run.stdout.contains("provtest-no-such-user"), run.stdout)
        XCTAssertEqual(scratch.read("data/app.conf"), "original\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch.path + "/data"), ["app.conf"])
    }

    func testServiceWithoutSystemdFailsCleanly() throws {
        let pid1 = (try? String(contentsOfFile: "/proc/1/comm", encoding: .utf8)) ?? ""
        try XCTSkipIf(pid1.hasPrefix("systemd"), "systemd is PID 1 here")
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("play.yml", """
        - hosts: localhost
          tasks:
            - service: {name: ssh, state: started}
        """)
        let run = try scratch.provision(["apply", "play.yml"])
        XCTAssertEqual(run.status, 2)
        XCTAssertTrue(run.stdout.contains("systemd is not running here"), run.stdout)
        XCTAssertTrue(run.stdout.contains("failed=1"), run.stdout)
    }
}

/// `backup: yes` keeps the old file beside the new one, under Ansible's name.
final class EngineBackupTests: XCTestCase {
    func testBackupKeepsTheOldFile() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("data/app.conf", "old\n")
        try scratch.write("play.yml", """
        - hosts: localhost
          gather_facts: false
          tasks:
            - copy: {dest: "{{ playbook_dir }}/data/app.conf", content: "new\\n", backup: yes}
        """)
        let run = try scratch.provision(["apply", "play.yml"])
        XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
        XCTAssertEqual(scratch.read("data/app.conf"), "new\n")
        let backups = try FileManager.default.contentsOfDirectory(atPath: scratch.path + "/data").filter { $0 != "app.conf" }
        XCTAssertEqual(backups.count, 1, "\(backups)")
        XCTAssertTrue(backups.first?.range(of: #"^app\.conf\.\d+\.\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d~$"#, options: .regularExpression) != nil, "\(backups)")
        XCTAssertEqual(backups.first.flatMap { scratch.read("data/\($0)") }, "old\n")
    }
}

/// `changed_when` and `failed_when` on real tasks.
final class EngineResultOverrideTests: XCTestCase {
    /// changed_when and failed_when together, with the statuses ansible-core 2.19.14 gives.
    func testChangedWhenAndFailedWhenCombineAsInAnsible() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("play.yml", """
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: forgiven, not changed
              command: sh -c 'exit 3'
              register: r
              changed_when: false
              failed_when: r.rc not in [0, 3]
            - name: forgiven, changed
              command: sh -c 'exit 3'
              failed_when: false
            - name: changed_when true on success
              command: "true"
              register: r2
              changed_when: r2.rc == 0
            - name: failed stays failed
              command: sh -c 'exit 1'
              changed_when: false
              ignore_errors: true
        """)
        let run = try scratch.provision(["apply", "play.yml", "--json"])
        XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
        XCTAssertEqual(run.tasks.map { $0["status"] as? String ?? "" }, ["ok", "changed", "changed", "failed"])
        XCTAssertEqual(run.tasks.last?["ignored"] as? Bool, true)
    }
}
