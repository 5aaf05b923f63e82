import Foundation
import XCTest
@testable import Provisioner

/// The facts a host gave last time, kept on the controller: podman's version is taken from them only
/// while the host's podman binary is the same, and a run renders its first tasks with them while the
/// host's own facts ride in the same round trip — work that is redone whenever the facts differ.
final class FactsMemoryTests: XCTestCase {
    func testTheMemoryFollowsXDGThenHomeAndIsPerHost() throws {
        let a = try XCTUnwrap(FactsMemory(host: "ssh root@a", environment: ["XDG_CACHE_HOME": "/x", "HOME": "/h"]))
        let b = try XCTUnwrap(FactsMemory(host: "ssh root@b", environment: ["HOME": "/h"]))
        XCTAssertTrue(a.file.hasPrefix("/x/provision/facts/"), a.file)
        XCTAssertTrue(b.file.hasPrefix("/h/.cache/provision/facts/"), b.file)
        XCTAssertNotEqual((a.file as NSString).lastPathComponent, (b.file as NSString).lastPathComponent)
        XCTAssertNil(FactsMemory(host: "h", environment: ["HOME": "relative"]))
    }

    func testPodmansVersionIsRememberedOnlyForTheBinaryItCameFrom() throws {
        guard let podman = TestSupport.which("podman") else { throw XCTSkip("podman is not installed") }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("provision-facts-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let memory = try XCTUnwrap(FactsMemory(host: "local", environment: ["XDG_CACHE_HOME": folder]))
        let real = try TestSupport.run(podman, ["--version"]).stdout.split(separator: " ").last.map {
            Value.string($0.trimmingCharacters(in: .whitespacesAndNewlines))
        }

        // Nothing remembered: podman is asked; its binary's stat line is remembered with the facts.
        XCTAssertEqual(try Facts.gather("localhost", via: LocalTransport(), memory: memory)["podman_version"], real)
        let remembered = try XCTUnwrap(memory.load())
        XCTAssertTrue(remembered.podman?.binary.hasPrefix(podman + " ") == true, remembered.output)
        let attributes = try FileManager.default.attributesOfItem(atPath: memory.file)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600)

        // The same binary: the remembered version is taken as it is (a marker proves podman was not asked).
        let binaryLine = "podman_binary=" + (remembered.podman?.binary ?? "")
        func remember(binary: String) {
            memory.store(remembered.output.split(separator: "\n").map { line in
                line.hasPrefix("podman_binary=") ? binary : line.hasPrefix("podman=") ? "podman=podman version 0.0.0-remembered" : String(line)
            }.joined(separator: "\n") + "\n")
        }
        remember(binary: binaryLine)
        XCTAssertEqual(try Facts.gather("localhost", via: LocalTransport(), memory: memory)["podman_version"], "0.0.0-remembered")

        // Another binary (a different stat line, as after an upgrade): podman is asked again.
        remember(binary: binaryLine + "-old")
        XCTAssertEqual(try Facts.gather("localhost", via: LocalTransport(), memory: memory)["podman_version"], real)
        XCTAssertEqual(memory.load()?.podman?.version, real.map { $0.pythonText })
    }

    /// A converged host with gather_facts costs one round trip; remembered facts that are not the
    /// host's (here another distribution) never decide anything: the run is what it would be without them.
    func testRememberedFactsRideAlongAndAreRedoneWhenTheHostsDiffer() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let distribution = try XCTUnwrap(Facts.gather("localhost", via: LocalTransport(), memory: nil)["distribution"]?.pythonText)
        try scratch.write("hosts.ini", "target ansible_connection=local\n")
        try scratch.write("files/\(distribution).txt", "for \(distribution)\n")
        try scratch.write("play.yml", """
            - hosts: all
              tasks:
                - copy: {dest: "{{ playbook_dir }}/distribution", content: "{{ ansible_facts.distribution }}\\n"}
                - copy: {dest: "{{ playbook_dir }}/picked", src: "{{ ansible_facts.distribution }}.txt"}
                - file: {path: "{{ playbook_dir }}/only-elsewhere", state: touch}
                  when: ansible_facts.distribution != "\(distribution)"
            """)
        var environment = ProcessInfo.processInfo.environment
        environment["XDG_CACHE_HOME"] = scratch.path("cache")
        func apply() throws -> TestSupport.Result {
            let result = try scratch.provision(["apply", "play.yml", "-i", "hosts.ini", "--json"], environment: environment)
            XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
            return result
        }
        let first = try apply()
        XCTAssertEqual(first.recap("changed"), 2, first.stdout)
        // Nothing remembered: facts first, then the observations (the local transport counts each change too).
        XCTAssertGreaterThanOrEqual(first.recap("round_trips"), 2, first.stdout)
        let second = try apply()
        XCTAssertEqual(second.recap("changed"), 0, second.stdout)
        XCTAssertEqual(second.recap("round_trips"), 1, "the remembered facts are the host's: one round trip")

        // Remembered facts of another distribution: with them the file would read "Fakeos", the src would
        // not be found and the last task would run. None of it happens; the memory is the host's again.
        let folder = scratch.path("cache/provision/facts")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder)
        XCTAssertEqual(files.count, 1, "\(files)")
        let file = "\(folder)/\(files.first ?? "")"
        let real = try String(contentsOfFile: file, encoding: .utf8)
        let fake = real.split(separator: "\n").map { $0.hasPrefix("id=") ? "id=fakeos" : String($0) }.joined(separator: "\n") + "\n"
        try Data(fake.utf8).write(to: URL(fileURLWithPath: file))
        let third = try apply()
        XCTAssertEqual(third.recap("changed"), 0, third.stdout)
        XCTAssertEqual(third.recap("round_trips"), 2, "the facts differed: the observations were read again")
        XCTAssertEqual(scratch.read("distribution"), "\(distribution)\n")
        XCTAssertNil(scratch.read("only-elsewhere"))
        XCTAssertEqual(try String(contentsOfFile: file, encoding: .utf8), real)
    }
}
