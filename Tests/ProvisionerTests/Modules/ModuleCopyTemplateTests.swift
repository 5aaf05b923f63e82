import Foundation
import XCTest
@testable import Modules
@testable import Provisioner

final class ModuleCopyTemplateTests: XCTestCase {
    typealias F = ModuleFixture

    func copy(_ arguments: KeyValuePairs<String, Value>) throws -> CopyModule { try F.make(CopyModule.self, arguments) }
    func template(_ arguments: KeyValuePairs<String, Value>) throws -> TemplateModule { try F.make(TemplateModule.self, arguments) }

    /// Controller files and a renderer that replaces `{{ name }}` with "web".
    let controller = ModuleContext(
        readControllerFile: { path, kind in
            switch (path, kind) {
            case ("app.conf", .file): return Array("listen 80\n".utf8)
            case ("blob.bin", .file): return [0, 1, 2, 3]
            case ("site.j2", .template): return Array("server {{ name }}\n".utf8)
            default: throw ModuleError("could not find \(path)")
            }
        },
        renderTemplate: { text, _ in
            var out = text
            while let range = out.range(of: "{{ name }}") { out.replaceSubrange(range, with: "web") }
            return out
        })

    // MARK: copy

    func testContentToANewFile() throws {
        let plan = try F.plan(try copy(["dest": "/etc/motd", "content": "hello\n", "mode": "0644"]), files: ["/etc": F.directory()])
        XCTAssertEqual(plan.summaries, ["create /etc/motd"])
        XCTAssertEqual(plan.actions, [.writeFile(path: "/etc/motd", content: Array("hello\n".utf8),
                                                 attributes: FileAttributes(mode: 0o644), backup: false)])
        XCTAssertEqual(plan.changes.first?.diff, TextDiff(label: "/etc/motd", before: "", after: "hello\n"))
        XCTAssertEqual(plan.result["dest"], "/etc/motd")
    }

    func testConvergedCopyIsNoChange() throws {
        let plan = try F.plan(try copy(["dest": "/etc/motd", "content": "hello\n", "mode": "0644", "owner": "root"]),
                              files: ["/etc/motd": F.file("hello\n"), "/etc": F.directory()])
        XCTAssertFalse(plan.isChanged)
    }

    func testChangedContentIsOneWriteWithADiff() throws {
        let plan = try F.plan(try copy(["dest": "/etc/motd", "content": "new\n", "mode": "0600", "backup": true]),
                              files: ["/etc/motd": F.file("old\n"), "/etc": F.directory()])
        XCTAssertEqual(plan.summaries, ["update /etc/motd (mode 0644 -> 0600)"])
        XCTAssertEqual(plan.actions, [.writeFile(path: "/etc/motd", content: Array("new\n".utf8),
                                                 attributes: FileAttributes(mode: 0o600), backup: true)])
        XCTAssertEqual(plan.changes.first?.diff, TextDiff(label: "/etc/motd", before: "old\n", after: "new\n"))
    }

    func testOnlyAttributesChange() throws {
        let plan = try F.plan(try copy(["dest": "/etc/motd", "content": "hello\n", "owner": "app"]),
                              files: ["/etc/motd": F.file("hello\n"), "/etc": F.directory()])
        XCTAssertEqual(plan.actions, [.setAttributes(path: "/etc/motd", attributes: FileAttributes(owner: "app"))])
    }

    func testSourceFromTheController() throws {
        let plan = try F.plan(try copy(["src": "app.conf", "dest": "/etc/app.conf"]), files: ["/etc": F.directory()], context: controller)
        XCTAssertEqual(plan.written, "listen 80\n")
        XCTAssertEqual(plan.result["src"], "app.conf")
        XCTAssertThrowsError(try F.plan(try copy(["src": "nope", "dest": "/etc/x"]), files: ["/etc": F.directory()], context: controller))
    }

    func testDirectoryDestinationsReceiveTheSourceName() throws {
        let into = try F.plan(try copy(["src": "app.conf", "dest": "/etc"]), files: ["/etc": F.directory(), "/": F.directory()],
                              context: controller)
        XCTAssertEqual(into.actions.first.map { if case .writeFile(let path, _, _, _) = $0 { return path } else { return "" } }, "/etc/app.conf")
        let slash = try F.plan(try copy(["src": "app.conf", "dest": "/opt/app/", "directory_mode": "0750"]), context: controller)
        XCTAssertEqual(slash.summaries, ["create directory /opt/app", "create /opt/app/app.conf"])
        XCTAssertEqual(slash.actions.first, .makeDirectory(path: "/opt/app", attributes: FileAttributes(mode: 0o750)))
    }

    func testForceNoLeavesAnExistingFile() throws {
        let plan = try F.plan(try copy(["dest": "/etc/motd", "content": "new\n", "force": false, "mode": "0600"]),
                              files: ["/etc/motd": F.file("old\n"), "/etc": F.directory()])
        XCTAssertFalse(plan.isChanged)
        XCTAssertEqual(plan.result["msg"], "file already exists")
    }

    func testBinaryContentDiffIsANote() throws {
        let plan = try F.plan(try copy(["src": "blob.bin", "dest": "/b"]), files: ["/b": F.file("text\n")], context: controller)
        XCTAssertEqual(plan.changes.first?.diff, TextDiff(label: "/b", before: "text\n", after: "[binary content, 4 bytes: not shown]\n"))
    }

    func testStructuredContentIsJSON() throws {
        let plan = try F.plan(try copy(["dest": "/x.json", "content": ["a": 1, "b": [true, "s"]]]), files: ["/": F.directory()])
        XCTAssertEqual(plan.written, "{\"a\": 1, \"b\": [true, \"s\"]}")
    }

    func testALinkIsReplacedByAFile() throws {
        let plan = try F.plan(try copy(["dest": "/etc/x", "content": "a"]), files: ["/etc/x": F.link(to: "/y"), "/etc": F.directory()])
        XCTAssertEqual(plan.summaries, ["replace link /etc/x with a file"])
    }

    func testCopyErrors() throws {
        XCTAssertThrowsError(try copy(["dest": "/x"])) { XCTAssertEqual(($0 as? ModuleError)?.message, "src (or content) is required") }
        XCTAssertThrowsError(try copy(["dest": "/x", "src": "a", "content": "b"])) {
            XCTAssertEqual(($0 as? ModuleError)?.message, "src and content are mutually exclusive")
        }
        XCTAssertThrowsError(try copy(["dest": "/x/", "content": "b"])) {
            XCTAssertEqual(($0 as? ModuleError)?.message, "can not use content with a dir as dest")
        }
        XCTAssertEqual(try F.plan(try copy(["dest": "/etc", "content": "b"]), files: ["/etc": F.directory(), "/": F.directory()]).failure,
                       "can not use content with a dir as dest")
        XCTAssertEqual(try F.plan(try copy(["dest": "/missing/x", "content": "b"])).failure, "Destination directory /missing does not exist")
        // ansible-core 2.19 in check mode: "changed" (an earlier task may create the folder).
        let checked = try F.plan(try copy(["dest": "/missing/x", "content": "b"]), context: ModuleContext(checkMode: true))
        XCTAssertNil(checked.failure)
        XCTAssertEqual(checked.written, "b")
    }

    func testValidateChecksATemporaryCopyFirst() throws {
        let plan = try F.plan(try copy(["dest": "/etc/sudoers.d/app", "content": "app ALL=(ALL) NOPASSWD: ALL\n", "mode": "0440",
                                        "validate": "/usr/sbin/visudo -cf %s"]),
                              files: ["/etc/sudoers.d": F.directory()])
        let temporary = "/etc/sudoers.d/.app.provision-validate"
        let content = Array("app ALL=(ALL) NOPASSWD: ALL\n".utf8)
        XCTAssertEqual(plan.actions, [
            .writeFile(path: temporary, content: content, attributes: FileAttributes(mode: 0o440), backup: false),
            .run(Command(["/bin/sh", "-c", "t=$1; shift; \"$@\"; s=$?; rm -f -- \"$t\"; exit $s", "validate", temporary,
                          "/usr/sbin/visudo", "-cf", temporary])),
            .writeFile(path: "/etc/sudoers.d/app", content: content, attributes: FileAttributes(mode: 0o440), backup: false),
        ])
        XCTAssertThrowsError(try copy(["dest": "/x", "content": "a", "validate": "visudo -c"])) {
            XCTAssertEqual(($0 as? ModuleError)?.message, "validate must contain %s: visudo -c")
        }
    }

    /// The check script keeps the validator's status and always removes the temporary file.
    func testValidationScriptRunsTheCheck() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("provision-validate-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let arguments = try ModuleArguments.validate(ValueDict([("validate", "grep -q 'good line' %s")]),
                                                     against: [Validation.spec], module: "test")
        let validation = try XCTUnwrap(try Validation(arguments))
        for (text, status) in [("a good line\n", Int32(0)), ("bad\n", 1)] {
            let actions = validation.actions(for: folder.appendingPathComponent("conf").path, content: Array(text.utf8), attributes: FileAttributes())
            guard case .writeFile(let temporary, let content, _, _) = actions[0], case .run(let command) = actions[1] else {
                return XCTFail("unexpected actions \(actions)")
            }
            try Data(content).write(to: URL(fileURLWithPath: temporary))
            let result = try TestSupport.run(command.argv[0], Array(command.argv.dropFirst()))
            XCTAssertEqual(result.status, status, text)
            XCTAssertFalse(FileManager.default.fileExists(atPath: temporary))
        }
    }

    func testFollowThroughALinkIsRefusedClearly() throws {
        let plan = try F.plan(try copy(["dest": "/etc/x", "content": "a", "follow": true]), files: ["/etc/x": F.link(to: "/y"), "/etc": F.directory()])
        XCTAssertEqual(plan.failure, "/etc/x is a symbolic link and follow: yes is not supported; give the link's target as dest")
    }

    // MARK: template

    func testTemplateRendersAndWrites() throws {
        let plan = try F.plan(try template(["src": "site.j2", "dest": "/etc/site.conf", "mode": "0640"]), files: ["/etc": F.directory()],
                              context: controller)
        XCTAssertEqual(plan.actions, [.writeFile(path: "/etc/site.conf", content: Array("server web\n".utf8),
                                                 attributes: FileAttributes(mode: 0o640), backup: false)])
        let converged = try F.plan(try template(["src": "site.j2", "dest": "/etc/site.conf", "mode": "0640"]),
                                   files: ["/etc/site.conf": F.file("server web\n", mode: 0o640), "/etc": F.directory()], context: controller)
        XCTAssertFalse(converged.isChanged)
    }

    func testTemplateChangeShowsTheDiff() throws {
        let plan = try F.plan(try template(["src": "site.j2", "dest": "/etc/site.conf"]),
                              files: ["/etc/site.conf": F.file("server old\n"), "/etc": F.directory()], context: controller)
        XCTAssertEqual(plan.summaries, ["update /etc/site.conf"])
        XCTAssertEqual(plan.changes.first?.diff, TextDiff(label: "/etc/site.conf", before: "server old\n", after: "server web\n"))
    }

    func testTemplateNewlineSequence() throws {
        let plan = try F.plan(try template(["src": "site.j2", "dest": "/w.conf", "newline_sequence": "\\r\\n"]), files: ["/": F.directory()],
                              context: controller)
        XCTAssertEqual(plan.written, "server web\r\n")
    }

    func testTemplateErrors() {
        XCTAssertThrowsError(try template(["dest": "/x"]))
        XCTAssertThrowsError(try template(["src": "a.j2", "dest": "/x", "trim_blocks": false]))
        XCTAssertThrowsError(try template(["src": "a.j2", "dest": "/x", "mode": "preserve"]))
    }
}
