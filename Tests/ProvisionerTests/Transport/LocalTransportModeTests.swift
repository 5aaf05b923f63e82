import Foundation
import XCTest
@testable import Provisioner

/// Issue 10 #4: local writes from many threads (hosts in parallel) must not touch the
/// process umask: it read the umask by setting it, so a file could get 0644 where the
/// umask says 0600, and a command started meanwhile saw umask 022.
final class LocalTransportModeTests: XCTestCase {
    func testModesAreExactWhileOtherThreadsWriteAndRunCommands() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("provision-umask-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let previous = umask(0o077)
        defer { umask(previous) }
        let threads = 8, files = 150
        let masks = Slots<String>(count: threads * files)
        Parallel.run(threads, limit: threads) { thread in
            let transport = LocalTransport()
            for index in 0..<files {
                let slot = thread * files + index
                do {
                    if thread % 4 == 3 {
                        // A command started while the others write: it must see the process's umask.
                        let output = try transport.perform(.run(Command(["/bin/sh", "-c", "umask"]))).output
                        masks.set(slot, .success(output?.stdout.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""))
                    } else {
                        let path = folder.appendingPathComponent("\(thread)-\(index)").path
                        // No mode: 0666 less the umask; an explicit mode is kept exactly.
                        let mode: UInt32? = index % 2 == 0 ? nil : 0o640
                        _ = try transport.perform(.writeFile(path: path, content: [UInt8(index & 0xff)],
                                                             attributes: FileAttributes(mode: mode), backup: false))
                    }
                } catch {
                    masks.set(slot, .failure(error))
                }
            }
        }
        for case .failure(let error)? in masks.results { XCTFail("\(error)") }
        let seen = Set(masks.results.compactMap { try? $0?.get() })
        XCTAssertEqual(seen, ["0077"], "umask seen by commands")
        var wrong: [String] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) {
            var st = stat()
            XCTAssertEqual(lstat(folder.appendingPathComponent(name).path, &st), 0)
            let index = Int(name.split(separator: "-").last ?? "") ?? 0
            let expected: mode_t = index % 2 == 0 ? 0o600 : 0o640
            if st.st_mode & 0o7777 != expected { wrong.append("\(name): \(String(st.st_mode & 0o7777, radix: 8))") }
        }
        XCTAssertEqual(wrong, [], "files whose mode is not the one asked for")
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: folder.path).contains { $0.contains(".provision-") })
    }

    func testParallelLocalHostsUnderAStrictUmask() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let hosts = 6
        try scratch.write("hosts.ini", (1...hosts).map { "h\($0) ansible_connection=local" }.joined(separator: "\n") + "\n")
        try scratch.write("play.yml", """
            - hosts: all
              gather_facts: false
              tasks:
                - copy: {dest: "\(scratch.path)/{{ inventory_hostname }}-{{ item }}", content: "{{ item }}"}
                  loop: "{{ range(0, 40) | list }}"
                - command: sh -c umask
                  register: mask
                - copy: {dest: "\(scratch.path)/{{ inventory_hostname }}.mask", content: "{{ mask.stdout }}"}
            """)
        let binary = try TestSupport.provisionBinary().path
        let run = try TestSupport.run("/bin/sh", ["-c", "umask 077; exec \"$0\" \"$@\"", binary, "apply", "play.yml", "-i", "hosts.ini",
                                                  "--forks", String(hosts)], in: scratch.root)
        XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
        for host in 1...hosts {
            XCTAssertEqual(scratch.read("h\(host).mask"), "0077", "h\(host)")
            for item in 0..<40 {
                var st = stat()
                XCTAssertEqual(stat(scratch.path("h\(host)-\(item)"), &st), 0)
                XCTAssertEqual(st.st_mode & 0o777, 0o600, "h\(host)-\(item)")
            }
        }
    }
}
