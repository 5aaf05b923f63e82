import Foundation
import XCTest
@testable import Modules
@testable import Provisioner

/// Issue 10 #8: after a change the cache re-reads only what the change can affect, so a
/// loop of N changes reads O(N) observations (it re-read every pending path: O(N²)).
/// The engine runs on this machine's real transport, with a counter in front of it.
final class ObservationCacheTests: XCTestCase {
    /// The local transport, counting what it is asked to observe.
    final class CountingConnection: HostConnection {
        final class Counting: Transport {
            let inner = LocalTransport()
            var observed = 0
            var name: String { inner.name }
            var roundTrips: Int { inner.roundTrips }
            func observe(_ requests: [Observation]) throws -> Observations {
                observed += requests.count
                return try inner.observe(requests)
            }
            func perform(_ action: Action) throws -> ActionResult { try inner.perform(action) }
        }
        let transport = Counting()
        var name: String { "counting local" }
        func transport(becoming become: Become?) throws -> Transport { transport }
        func close() {}
    }

    /// Runs `play` on this machine through the engine; returns the observations read and the recap.
    func run(_ play: String, in scratch: Scratch) throws -> (observed: Int, stats: HostStats) {
        let path = try scratch.write("play.yml", play)
        let registry = ModuleRegistry(ModuleCatalog.all)
        let loader = PlaybookLoader(resolveModule: registry.resolve, moduleNames: registry.names)
        let playbook = try loader.loadPlaybook(path)
        let engine = EngineContext(options: RunOptions(), registry: registry, loader: loader, reporter: JSONReporter(),
                                   config: AnsibleConfig())
        let connection = CountingConnection()
        let play = try XCTUnwrap(playbook.plays.first)
        let host = HostRun(host: "h", play: play, connection: connection, engine: engine, inventoryVars: ValueDict(),
                           hostVars: ValueDict())
        try host.prepare()
        try host.prefetch(runtimeNames: (names: [], open: false))
        host.run(play.tasks)
        return (connection.transport.observed, host.stats)
    }

    func testALoopOfCopiesReadsEachObservationAboutOnce() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        for n in [100, 400] {
            let result = try run("""
                - hosts: all
                  gather_facts: false
                  tasks:
                    - copy: {dest: "\(scratch.path)/out\(n)/f{{ item }}", content: "{{ item }}"}
                      loop: "{{ range(0, \(n)) | list }}"
                """, in: try scratch.making("out\(n)"))
            XCTAssertEqual(result.stats.changed, 1)
            XCTAssertEqual(scratch.read("out\(n)/f\(n - 1)"), "\(n - 1)")
            // Each item observes its file and the folder: read once up front, the folder again after
            // each write (its time changed). Re-reading every pending item after each change reads N²/2.
            XCTAssertLessThanOrEqual(result.observed, 4 * n, "observations read for \(n) copies")
        }
    }

    func testALoopOfCommandsReadsLinearlyToo() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        // A command may change anything, so each one makes every observation stale; the later items'
        // reads must still not add up to N².
        let n = 120
        let result = try run("""
            - hosts: all
              gather_facts: false
              tasks:
                - command: {cmd: "touch \(scratch.path)/c{{ item }}", creates: "\(scratch.path)/c{{ item }}"}
                  loop: "{{ range(0, \(n)) | list }}"
            """, in: scratch)
        XCTAssertEqual(result.stats.changed, 1)
        XCTAssertNotNil(scratch.read("c\(n - 1)"))
        XCTAssertLessThanOrEqual(result.observed, 4 * n, "observations read for \(n) commands")
    }
}

extension Scratch {
    /// Makes folder `relative` in the scratch folder; returns the scratch folder.
    func making(_ relative: String) throws -> Scratch {
        try FileManager.default.createDirectory(atPath: path(relative), withIntermediateDirectories: true)
        return self
    }
}
