import Foundation
import XCTest

/// The engine's two hooks for the builtin modules, through the real `provision` on this machine:
/// run-time steps (`Plan.steps`: run after planning, in check mode only when they may, their
/// output in the result) and module facts (`ansible_facts` in a result become the host's facts
/// and variables, below the play's own variables, as in Ansible).
final class EngineStepsAndFactsTests: XCTestCase {
    var scratch: Scratch!

    override func setUpWithError() throws {
        scratch = try Scratch()
        try scratch.write("hosts", "localhost ansible_connection=local\n")
    }

    override func tearDown() { scratch?.remove() }

    func testModuleFactsBecomeVariablesThatPlayVariablesOutrank() throws {
        try scratch.write("play.yml", """
            - hosts: all
              gather_facts: false
              vars:
                getent_group: "the play's own"
              tasks:
                - getent: {database: passwd, key: root}
                  register: looked
                - getent: {database: group, key: root}
                - copy:
                    dest: "\(scratch.path("facts"))"
                    content: "{{ getent_passwd.root[4] }} {{ getent_group }} {{ ansible_facts.getent_group.root[1] }} {{ looked.ansible_facts.getent_passwd.root[0] }}"
                - getent: {database: passwd, key: "{{ item }}"}
                  loop: [daemon]
                - copy: {dest: "\(scratch.path("later"))", content: "{{ getent_passwd.daemon[0] }} {{ 'root' in ansible_facts.getent_passwd }}"}
            """)
        let run = try scratch.provision(["apply", "play.yml", "-i", "hosts"])
        XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
        XCTAssertEqual(scratch.read("facts"), "/root the play's own 0 x")
        // A fact is replaced whole (Ansible merges facts first-order): daemon's lookup left root out.
        XCTAssertEqual(scratch.read("later"), "x False")
    }

    func testStepsRunAfterPlanningAndOnlyTheReadOnlyOnesInCheckMode() throws {
        let flag = scratch.path("flag")
        try scratch.write("flag", "present\n")
        try scratch.write("play.yml", """
            - hosts: all
              gather_facts: false
              tasks:
                - wait_for: {path: "\(flag)", delay: 1, timeout: 5}
                  register: waited
                - copy: {dest: "\(scratch.path("elapsed"))", content: "{{ waited.elapsed | default('none') }}"}
            """)
        let check = try scratch.provision(["apply", "play.yml", "-i", "hosts", "--check", "--json"])
        XCTAssertEqual(check.status, 0, check.stdout)
        XCTAssertEqual(check.tasks.first?["status"] as? String, "skipped", "wait_for does not run in check mode, as in Ansible")
        let run = try scratch.provision(["apply", "play.yml", "-i", "hosts", "--json"])
        XCTAssertEqual(run.status, 0, run.stdout)
        XCTAssertEqual(scratch.read("elapsed"), "1", "the delay ran on the host")
        XCTAssertEqual(run.tasks.first?["status"] as? String, "ok", "a wait is no change")
    }
}
