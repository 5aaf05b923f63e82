import Foundation
import XCTest

/// Several inventory hosts on the local connection: parallel runs, `serial`
/// batches, the failure budget and per-host results, without ssh.
final class FleetLocalTests: XCTestCase {
    func scratch(_ play: String, hosts: Int) throws -> Scratch {
        let scratch = try Scratch()
        try scratch.write("hosts.ini", (1...hosts).map { "h\($0) ansible_connection=local" }.joined(separator: "\n") + "\n")
        try scratch.write("play.yml", play)
        return scratch
    }

    func testHostsRunInParallelWithTheirOwnResults() throws {
        let scratch = try self.scratch("""
        - hosts: all
          gather_facts: false
          tasks:
            - copy: {dest: "{{ playbook_dir }}/{{ inventory_hostname }}.txt", content: "{{ inventory_hostname }}\\n"}
        """, hosts: 5)
        defer { scratch.remove() }
        let run = try scratch.provision(["apply", "play.yml", "-i", "hosts.ini", "--forks", "5"])
        XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
        for n in 1...5 { XCTAssertEqual(scratch.read("h\(n).txt"), "h\(n)\n") }
        // One TASK block, one line per host in inventory order, recap sorted by host.
        XCTAssertEqual(run.stdout.components(separatedBy: "TASK [copy]").count, 2, run.stdout)
        let changedLines: [String] = run.stdout.split(separator: "\n").map(String.init).filter { $0.hasPrefix("changed: [") }
        let expected: [String] = (1...5).map { "changed: [h\($0)]" }
        XCTAssertEqual(changedLines, expected)
        let again = try scratch.provision(["apply", "play.yml", "-i", "hosts.ini", "--json"])
        XCTAssertEqual(again.recap("changed"), 0, again.stdout)
        XCTAssertEqual(again.recap("ok"), 5, again.stdout)
    }

    func testSerialBatchWithAFailureStopsThePlay() throws {
        let scratch = try self.scratch("""
        - hosts: all
          gather_facts: false
          serial: 2
          max_fail_percentage: 0
          tasks:
            - fail: {msg: "h2 fails"}
              when: inventory_hostname == 'h2'
            - copy: {dest: "{{ playbook_dir }}/{{ inventory_hostname }}.done", content: "x"}
        """, hosts: 4)
        defer { scratch.remove() }
        let run = try scratch.provision(["apply", "play.yml", "-i", "hosts.ini", "--json"])
        XCTAssertEqual(run.status, 2, run.stdout + run.stderr)
        // As ansible-playbook: past max_fail_percentage the batch stops right after the failing task.
        XCTAssertNil(scratch.read("h1.done"))
        XCTAssertNil(scratch.read("h2.done"))
        XCTAssertNil(scratch.read("h3.done"), "the batch after the failing one must not run")
        XCTAssertNil(scratch.read("h4.done"))
        XCTAssertEqual(run.recap("failed"), 1)
    }

    func testWithoutABudgetTheOtherHostsCarryOn() throws {
        let scratch = try self.scratch("""
        - hosts: all
          gather_facts: false
          tasks:
            - fail: {msg: "h2 fails"}
              when: inventory_hostname == 'h2'
            - copy: {dest: "{{ playbook_dir }}/{{ inventory_hostname }}.done", content: "x"}
        """, hosts: 3)
        defer { scratch.remove() }
        let run = try scratch.provision(["apply", "play.yml", "-i", "hosts.ini"])
        XCTAssertEqual(run.status, 2)
        XCTAssertNotNil(scratch.read("h1.done"))
        XCTAssertNil(scratch.read("h2.done"))
        XCTAssertNotNil(scratch.read("h3.done"))
        XCTAssertTrue(run.stdout.contains("fatal: [h2]: FAILED! => h2 fails"), run.stdout)
    }
}
