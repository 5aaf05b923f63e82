import XCTest

/// Issue 10 #6 and #7: imports, includes and role dependencies that loop. On main before this work,
/// the imports crashed with SIGSEGV (exit 139, validate too) and a role loop exited 0 without running
/// the role; they must stop with exit 1 and name the chain of files (file:line:col).
final class EngineRecursionTests: XCTestCase {
    var scratch: Scratch!

    override func setUpWithError() throws {
        scratch = try Scratch()
        try scratch.write("hosts.ini", "localhost ansible_connection=local\n")
    }

    override func tearDown() { scratch.remove() }

    func play(_ tasks: String) -> String {
        "- hosts: all\n  gather_facts: false\n  tasks:\n" + tasks
    }

    /// Runs `provision validate` and `apply` on play.yml: both exit 1 with every word in the message.
    func assertRefused(_ words: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        for command in ["validate", "apply"] {
            let result = try scratch.provision([command, scratch.path("play.yml"), "-i", scratch.path("hosts.ini")])
            XCTAssertEqual(result.status, 1, "\(command): \(result.stdout)\(result.stderr)", file: file, line: line)
            for word in words {
                XCTAssertTrue(result.stderr.contains(word), "\(command): '\(word)' not in: \(result.stderr)", file: file, line: line)
            }
        }
    }

    func testSelfImportNamesTheChain() throws {
        try scratch.write("play.yml", play("    - import_tasks: t.yml\n"))
        try scratch.write("t.yml", "- debug: {msg: hi}\n- import_tasks: t.yml\n")
        try assertRefused(["recursion: t.yml imports itself", "play.yml:4:21 imports t.yml", "t.yml:2:17 imports t.yml"])
    }

    func testMutualImportsNameTheChain() throws {
        try scratch.write("play.yml", play("    - import_tasks: a.yml\n"))
        try scratch.write("a.yml", "- import_tasks: b.yml\n")
        try scratch.write("b.yml", "- debug: {msg: b}\n- import_tasks: a.yml\n")
        try assertRefused(["recursion: a.yml imports itself", "a.yml:1:17 imports b.yml", "b.yml:2:17 imports a.yml"])
    }

    func testUnconditionalSelfIncludeIsRefusedBeforeTheRun() throws {
        try scratch.write("play.yml", play("    - include_tasks: i.yml\n"))
        try scratch.write("i.yml", "- debug: {msg: i}\n- include_tasks: i.yml\n")
        try assertRefused(["recursion: i.yml includes itself", "i.yml:2:3 includes i.yml"])
    }

    func testPlaybookImportingItself() throws {
        try scratch.write("play.yml", "- import_playbook: other.yml\n")
        try scratch.write("other.yml", "- import_playbook: play.yml\n")
        try assertRefused(["recursion: play.yml imports itself as a playbook", "play.yml:1:20 imports playbook other.yml",
                           "other.yml:1:20 imports playbook play.yml"])
    }

    func testImportRoleOfItselfInItsTasks() throws {
        try scratch.write("play.yml", "- hosts: all\n  gather_facts: false\n  roles: [r]\n")
        try scratch.write("roles/r/tasks/main.yml", "- import_role: {name: r}\n")
        try assertRefused(["role dependency loop: 'r' depends on itself", "play.yml:3:11 runs role r", "main.yml:1:23 runs role r"])
    }

    func testRoleDependencyLoopNamesTheRoles() throws {
        try scratch.write("play.yml", "- hosts: all\n  gather_facts: false\n  roles: [a]\n")
        try scratch.write("roles/a/tasks/main.yml", "- debug: {msg: a}\n")
        try scratch.write("roles/a/meta/main.yml", "dependencies:\n  - role: b\n")
        try scratch.write("roles/b/tasks/main.yml", "- debug: {msg: b}\n")
        try scratch.write("roles/b/meta/main.yml", "dependencies:\n  - a\n")
        try assertRefused(["role dependency loop: 'a' depends on itself", "runs role a -> ", "roles/a/meta/main.yml:2:11 runs role b",
                           "roles/b/meta/main.yml:2:5 runs role a"])
    }

    func testRoleDependingOnItself() throws {
        try scratch.write("play.yml", "- hosts: all\n  gather_facts: false\n  roles: [a]\n")
        try scratch.write("roles/a/meta/main.yml", "dependencies: [a]\n")
        try assertRefused(["role dependency loop: 'a' depends on itself", "roles/a/meta/main.yml:1:16 runs role a"])
    }

    /// A conditional include may recurse (Ansible allows it); one whose condition never ends stops at the depth limit.
    func testConditionalRecursionRunsAndEndlessOneStopsAtTheDepthLimit() throws {
        try scratch.write("play.yml", "- hosts: all\n  gather_facts: false\n  vars: {n: 0, limit: 5}\n  tasks:\n    - include_tasks: k.yml\n")
        try scratch.write("k.yml", """
        - set_fact: {n: "{{ n | int + 1 }}"}
        - copy: {dest: "\(scratch.path("depth"))", content: "{{ n }}"}
        - include_tasks: k.yml
          when: n | int < limit | int

        """)
        let bounded = try scratch.provision(["apply", scratch.path("play.yml"), "-i", scratch.path("hosts.ini")])
        XCTAssertEqual(bounded.status, 0, bounded.stdout + bounded.stderr)
        XCTAssertEqual(scratch.read("depth"), "5")

        let endless = try scratch.provision(["apply", scratch.path("play.yml"), "-i", scratch.path("hosts.ini"), "-e", "limit=100000"])
        XCTAssertEqual(endless.status, 2, endless.stdout + endless.stderr)
        XCTAssertTrue(endless.stdout.contains("recursion: includes nest 200 deep, the limit"), endless.stdout)
        XCTAssertTrue(endless.stdout.contains("play.yml:5:7 includes k.yml -> "), endless.stdout)
        XCTAssertEqual(scratch.read("depth"), "199", "the 200th nested include is refused")
    }
}
