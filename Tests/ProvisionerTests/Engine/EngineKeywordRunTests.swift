import Foundation
import XCTest

/// Keywords that change how a host is reached keep the engine's promise: a converged host costs one
/// round trip (observations stay batched around environment, delegation and retries).
final class EngineKeywordRunTests: XCTestCase {
    func testAConvergedHostCostsOneRoundTripWithEnvironmentAndDelegation() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("hosts.ini", "target ansible_connection=local\n")
        try scratch.write("play.yml", """
            - hosts: all
              gather_facts: false
              environment: {LANG: C, PROBE: "{{ inventory_hostname }}"}
              tasks:
                - copy: {dest: "{{ playbook_dir }}/a", content: "a\\n"}
                  environment: {MORE: x}
                - file: {path: "{{ playbook_dir }}/dir", state: directory}
                - lineinfile: {path: "{{ playbook_dir }}/b", line: "b", create: true}
                - command: touch {{ playbook_dir }}/made
                  args: {creates: "{{ playbook_dir }}/made"}
                  environment: {PATH: "/usr/bin:/bin"}
                - copy: {dest: "{{ playbook_dir }}/delegated", content: "d\\n"}
                  delegate_to: localhost
            """)
        let first = try scratch.provision(["apply", "play.yml", "-i", "hosts.ini", "--json"])
        XCTAssertEqual(first.status, 0, first.stdout + first.stderr)
        XCTAssertEqual(first.recap("changed"), 5, first.stdout)
        let second = try scratch.provision(["apply", "play.yml", "-i", "hosts.ini", "--json"])
        XCTAssertEqual(second.status, 0, second.stdout + second.stderr)
        XCTAssertEqual(second.recap("changed"), 0, second.stdout)
        // The delegated task observes localhost through its own connection; the host itself costs one trip.
        XCTAssertEqual(second.recap("round_trips"), 1, second.stdout)
        XCTAssertEqual(second.tasks.last?["delegated_to"] as? String, "localhost")
    }
}
