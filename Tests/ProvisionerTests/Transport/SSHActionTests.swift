import Foundation
import XCTest
@testable import Provisioner

/// Every primitive action over ssh against the local transport on the same
/// inputs: two identical trees, one changed locally and one over ssh, must end
/// up identical (kind, mode, owner, group, content, link target), and fail alike.
final class SSHActionTests: XCTestCase {
    private var server: SSHTestServer!
    private var transport: SSHTransport!
    private var local: URL!
    private var remote: URL!

    override func setUpWithError() throws {
        server = try SSHTestServer.start()
        transport = try SSHTransport(host: "testhost", variables: server.variables())
        local = server.directory.appendingPathComponent("local")
        remote = server.directory.appendingPathComponent("remote")
    }

    override func tearDown() {
        transport = nil
        server = nil
    }

    /// A starting tree: files with odd modes and owners, a folder tree, links.
    private func seed(_ root: URL) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: root.appendingPathComponent("tree/sub"), withIntermediateDirectories: true)
        try "old\n".write(to: root.appendingPathComponent("existing"), atomically: false, encoding: .utf8)
        chmod(root.appendingPathComponent("existing").path, 0o600)
        try "in tree\n".write(to: root.appendingPathComponent("tree/sub/leaf"), atomically: false, encoding: .utf8)
        try "a file\n".write(to: root.appendingPathComponent("plain"), atomically: false, encoding: .utf8)
        symlink("existing", root.appendingPathComponent("link-to-file").path)
        symlink("tree", root.appendingPathComponent("link-to-dir").path)
        symlink("missing-target", root.appendingPathComponent("dangling").path)
        if geteuid() == 0 {
            chown(root.appendingPathComponent("existing").path, 65534, 65534)
            lchown(root.appendingPathComponent("link-to-file").path, 65534, 65534)
        }
    }

    /// Applies `make(root)` to both trees and compares the outcome.
    private func check(_ name: String, file: StaticString = #filePath, line: UInt = #line,
                       _ make: (String) -> [Action]) throws {
        for root in [local!, remote!] {
            try? FileManager.default.removeItem(at: root)
            try seed(root)
        }
        func outcome(_ transport: Transport, _ root: URL) -> [String] {
            make(root.path).map { action in
                do {
                    let result = try transport.perform(action)
                    return (result.output.map { "\($0.status) \($0.stdout) \($0.stderr)" } ?? "ok")
                        .replacingOccurrences(of: root.path, with: "ROOT")
                } catch {
                    return "failed"
                }
            }
        }
        let localResults = outcome(LocalTransport(), local)
        let remoteResults = outcome(transport, remote)
        XCTAssertEqual(remoteResults, localResults, "\(name): results", file: file, line: line)
        XCTAssertEqual(try snapshot(remote), try snapshot(local), "\(name): resulting files", file: file, line: line)
    }

    /// Every path under `root` with what the local transport observes, times left out
    /// and Ansible backup names (`.PID.DATE@TIME~`) made comparable.
    private func snapshot(_ root: URL) throws -> [String: String] {
        var paths = ["."]
        if let walker = FileManager.default.enumerator(atPath: root.path) {
            while let next = walker.nextObject() as? String { paths.append(next) }
        }
        let observed = try LocalTransport().observe(paths.map { .file(path: root.appendingPathComponent($0).path, content: true) })
        var result: [String: String] = [:]
        for path in paths {
            guard let state = observed.files[root.appendingPathComponent(path).path] else { continue }
            let name = path.replacingOccurrences(of: #"\.\d+\.\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d~$"#, with: ".BACKUP~",
                                                 options: .regularExpression)
            let size = state.kind == .directory ? "-" : String(state.size)
            result[name] = "\(state.kind) \(String(state.mode, radix: 8)) \(state.owner):\(state.group) \(size)"
                + " \(state.linkTarget ?? "") \(state.content.map { String(decoding: $0, as: UTF8.self) } ?? "")"
        }
        return result
    }

    func testWriteFileMatchesLocal() throws {
        let content = Array("new content\n".utf8)
        try check("new file") { [.writeFile(path: "\($0)/new", content: content, attributes: FileAttributes(), backup: false)] }
        try check("existing keeps mode and owner") {
            [.writeFile(path: "\($0)/existing", content: content, attributes: FileAttributes(), backup: false)]
        }
        try check("explicit mode") {
            [.writeFile(path: "\($0)/existing", content: content, attributes: FileAttributes(mode: 0o640), backup: false),
             .writeFile(path: "\($0)/new", content: [], attributes: FileAttributes(mode: 0o755), backup: false)]
        }
        try check("backup") {
            [.writeFile(path: "\($0)/existing", content: content, attributes: FileAttributes(), backup: true),
             .writeFile(path: "\($0)/new", content: content, attributes: FileAttributes(), backup: true)]
        }
        try check("through a link") {
            [.writeFile(path: "\($0)/link-to-file", content: content, attributes: FileAttributes(), backup: false),
             .writeFile(path: "\($0)/dangling", content: content, attributes: FileAttributes(), backup: false)]
        }
        try check("missing folder and a folder in the way") {
            [.writeFile(path: "\($0)/no/such/dir/file", content: content, attributes: FileAttributes(), backup: false),
             .writeFile(path: "\($0)/tree", content: content, attributes: FileAttributes(), backup: false)]
        }
        try check("odd names") {
            [.writeFile(path: "\($0)/it's a \"name\" $(x) `y` \\ *", content: content, attributes: FileAttributes(), backup: false),
             .writeFile(path: "\($0)/-dash", content: content, attributes: FileAttributes(), backup: false),
             .writeFile(path: "\($0)/line\nbreak", content: content, attributes: FileAttributes(), backup: false)]
        }
        if geteuid() == 0 {
            try check("owner and group") {
                [.writeFile(path: "\($0)/new", content: content,
                            attributes: FileAttributes(mode: 0o640, owner: "nobody", group: "nogroup"), backup: false),
                 .writeFile(path: "\($0)/existing", content: content, attributes: FileAttributes(owner: "root"), backup: false),
                 .writeFile(path: "\($0)/plain", content: content, attributes: FileAttributes(group: "65534"), backup: false),
                 .writeFile(path: "\($0)/bad-owner", content: content,
                            attributes: FileAttributes(owner: "no-such-user-here"), backup: false)]
            }
        }
    }

    func testRemoveAndDirectoriesMatchLocal() throws {
        try check("remove") {
            [.remove(path: "\($0)/plain"), .remove(path: "\($0)/tree"), .remove(path: "\($0)/link-to-dir"),
             .remove(path: "\($0)/nothing-here"), .remove(path: "\($0)/dangling")]
        }
        try check("make directory") {
            [.makeDirectory(path: "\($0)/a/b/c", attributes: FileAttributes(mode: 0o750)),
             .makeDirectory(path: "\($0)/tree/sub/new", attributes: FileAttributes()),
             .makeDirectory(path: "\($0)/tree", attributes: FileAttributes(mode: 0o700)),
             .makeDirectory(path: "\($0)/link-to-dir/via-link", attributes: FileAttributes(mode: 0o2775)),
             .makeDirectory(path: "\($0)/plain/under-a-file", attributes: FileAttributes())]
        }
        if geteuid() == 0 {
            try check("make directory with owner") {
                [.makeDirectory(path: "\($0)/owned/deeper", attributes: FileAttributes(mode: 0o700, owner: "nobody", group: "nogroup"))]
            }
        }
    }

    func testAttributesTouchAndLinksMatchLocal() throws {
        try check("set attributes") {
            [.setAttributes(path: "\($0)/plain", attributes: FileAttributes(mode: 0o4755)),
             .setAttributes(path: "\($0)/tree", attributes: FileAttributes(mode: 0o711)),
             .setAttributes(path: "\($0)/link-to-file", attributes: FileAttributes(mode: 0o777)),
             .setAttributes(path: "\($0)/nothing-here", attributes: FileAttributes(mode: 0o644))]
        }
        if geteuid() == 0 {
            try check("set owner, links not followed") {
                [.setAttributes(path: "\($0)/link-to-file", attributes: FileAttributes(owner: "root", group: "root")),
                 .setAttributes(path: "\($0)/plain", attributes: FileAttributes(owner: "nobody")),
                 .setAttributes(path: "\($0)/tree", attributes: FileAttributes(group: "nogroup")),
                 .setAttributes(path: "\($0)/existing", attributes: FileAttributes(owner: "65534", group: "nogroup"))]
            }
        }
        try check("touch") { [.touch(path: "\($0)/plain"), .touch(path: "\($0)/dangling"), .touch(path: "\($0)/nothing-here")] }
        try check("symlink") {
            [.symlink(path: "\($0)/new-link", target: "plain"), .symlink(path: "\($0)/plain", target: "/etc/hostname"),
             .symlink(path: "\($0)/link-to-dir", target: "elsewhere"), .symlink(path: "\($0)/tree", target: "x"),
             .symlink(path: "\($0)/odd", target: "it's -a \"target\"")]
        }
    }

    func testRunMatchesLocal() throws {
        try check("run") { root in
            [.run(Command(["sh", "-c", "echo \"$FOO|$BAR\"; cat; pwd; echo err >&2; exit 4"],
                          environment: ["FOO": "it's $x", "BAR": "two words"], stdin: Array("input\nlines\n".utf8),
                          directory: "\(root)/tree")),
             .run(Command(["echo", "a\\nb", "$HOME", "*"])),
             .run(Command(["cat"], stdin: [])),
             .run(Command(["cat"])),
             .run(Command(["sh", "-c", "kill -TERM $$"])),
             .run(Command(["sh", "-c", "touch made-here"], directory: root))]
        }
        let missing = try transport.perform(.run(Command(["no-such-program-here", "x"])))
        XCTAssertEqual(missing.output?.status, 127)
        let noFolder = try transport.perform(.run(Command(["true"], directory: "/no/such/folder")))
        XCTAssertEqual(noFolder.output?.status, 126)
        XCTAssertThrowsError(try transport.perform(.run(Command(["env"], environment: ["BAD-NAME": "x"]))))
        XCTAssertThrowsError(try transport.perform(.run(Command(["echo", "nul\0byte"]))))
    }

    func testBinaryContentRoundTrips() throws {
        let path = remote.appendingPathComponent("binary").path
        try FileManager.default.createDirectory(at: remote, withIntermediateDirectories: true)
        let every = (0...255).map(UInt8.init)
        var large = [UInt8](repeating: 0, count: 3 << 20)
        for index in large.indices { large[index] = UInt8(truncatingIfNeeded: index &* 2654435761 >> 13) }
        let contents: [[UInt8]] = [every, every.reversed(), [], [0], Array("no newline".utf8), large]
        for content in contents {
            _ = try transport.perform(.writeFile(path: path, content: content, attributes: FileAttributes(), backup: false))
            XCTAssertEqual(FileManager.default.contents(atPath: path).map { [UInt8]($0) }, content)
            let observed = try transport.observe([.file(path: path, content: true)])
            XCTAssertEqual(observed.file(path)?.content, content)
            XCTAssertEqual(observed.file(path)?.size, content.count)
        }
        // Bytes through a command's stdin arrive unchanged too.
        let copy = remote.appendingPathComponent("copy").path
        _ = try transport.perform(.run(Command(["sh", "-c", "cat > \"$1\"", "sh", copy], stdin: every)))
        XCTAssertEqual(FileManager.default.contents(atPath: copy).map { [UInt8]($0) }, every)
    }

    func testFailedWriteLeavesNoTemporaryFile() throws {
        try FileManager.default.createDirectory(at: remote.appendingPathComponent("dir/in-the-way"), withIntermediateDirectories: true)
        let folder = remote.appendingPathComponent("dir").path
        // The rename fails: a folder is in the way.
        XCTAssertThrowsError(try transport.perform(.writeFile(path: "\(folder)/in-the-way", content: [1, 2, 3],
                                                              attributes: FileAttributes(), backup: false))) { error in
            XCTAssertTrue("\(error)".contains("rename into \(folder)/in-the-way"), "\(error)")
        }
        // chmod fails after the temporary file was written.
        XCTAssertThrowsError(try transport.perform(.writeFile(path: "\(folder)/file", content: [1, 2, 3],
                                                              attributes: FileAttributes(mode: 0o77777), backup: false)))
        if geteuid() == 0 {
            XCTAssertThrowsError(try transport.perform(.writeFile(path: "\(folder)/file", content: [1],
                                                                  attributes: FileAttributes(owner: "no-such-user-here"), backup: false)))
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["in-the-way"])
        // The session is still usable after failed actions.
        _ = try transport.perform(.writeFile(path: "\(folder)/file", content: [1], attributes: FileAttributes(), backup: false))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder).sorted(), ["file", "in-the-way"])
        XCTAssertEqual(transport.roundTrips, 3 + (geteuid() == 0 ? 1 : 0))
    }
}

extension SSHActionTests {
    /// chown clears setuid/setgid, so the mode must be set after the owner.
    func testSetuidModeSurvivesOwnerChange() throws {
        guard geteuid() == 0 else { throw XCTSkip("changing owners needs root") }
        try FileManager.default.createDirectory(at: remote, withIntermediateDirectories: true)
        let path = remote.appendingPathComponent("suid").path
        let attributes = FileAttributes(mode: 0o4755, owner: "nobody", group: "nogroup")
        _ = try transport.perform(.writeFile(path: path, content: [1], attributes: attributes, backup: false))
        XCTAssertEqual(try transport.observe([.file(path: path, content: false)]).file(path)?.mode, 0o4755)
        _ = try transport.perform(.setAttributes(path: path, attributes: FileAttributes(mode: 0o2755, owner: "root")))
        XCTAssertEqual(try transport.observe([.file(path: path, content: false)]).file(path)?.mode, 0o2755)
    }
}
