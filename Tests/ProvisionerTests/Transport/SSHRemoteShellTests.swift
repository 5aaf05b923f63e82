import Foundation
import XCTest
@testable import Provisioner

/// The remote shell library run locally by each POSIX shell a host may have as
/// /bin/sh (dash on Debian, bash on Fedora and RHEL, busybox ash), no ssh involved:
/// the same requests must give the same replies.
final class SSHRemoteShellTests: XCTestCase {
    private static let shells: [(name: String, argv: [String])] = [
        ("dash", ["/bin/dash"]), ("bash", ["/bin/bash", "--posix"]), ("busybox", ["/bin/busybox", "sh"]),
    ]

    /// Runs prelude + one request in `shell` and parses the replies.
    private func replies(_ shell: [String], _ build: (inout RemoteShellScript) throws -> Void) throws -> [RemoteShellReply] {
        var script = RemoteShellScript()
        try build(&script)
        script.end("end")
        let input = try RemoteShellLibrary.prelude(nonce: "ready", rootless: false) + script.text
        let result = try TestSupport.run(shell[0], Array(shell.dropFirst()), stdin: Data(input.utf8))
        var lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0.utf8) }
        guard let ready = lines.firstIndex(of: Array("@READY ready".utf8)) else {
            throw SSHTestError("\(shell[0]) did not start: \(result.stderr)")
        }
        lines.removeFirst(ready + 1)
        var parsed: [RemoteShellReply] = []
        for _ in 0..<script.replies {
            parsed.append(try RemoteShellReply.read {
                guard !lines.isEmpty else { throw SSHTestError("\(shell[0]): output ended early; stderr: \(result.stderr)") }
                return lines.removeFirst()
            })
        }
        XCTAssertEqual(lines.first.map { String(decoding: $0, as: UTF8.self) }, "@END end", shell[0])
        XCTAssertEqual(result.stderr, "", shell[0])
        return parsed
    }

    func testEveryShellGivesTheSameReplies() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("provision-shells-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var results: [String: [RemoteShellReply]] = [:]
        for shell in Self.shells where FileManager.default.isExecutableFile(atPath: shell.argv[0]) {
            let root = folder.appendingPathComponent(shell.name).path
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            let replies = try replies(shell.argv) { script in
                try script.perform(.makeDirectory(path: "\(root)/a/b", attributes: FileAttributes(mode: 0o750)))
                try script.perform(.writeFile(path: "\(root)/a/b/f", content: Array(0...255), attributes: FileAttributes(mode: 0o640),
                                              backup: false))
                try script.perform(.writeFile(path: "\(root)/a/b/f", content: [1], attributes: FileAttributes(), backup: true))
                try script.perform(.symlink(path: "\(root)/l", target: "a/b/f"))
                try script.perform(.setAttributes(path: "\(root)/a/b/f", attributes: FileAttributes(mode: 0o4711)))
                try script.perform(.touch(path: "\(root)/nothing"))
                try script.run(Command(["sh", "-c", "cat; echo \"$X\" >&2; exit 5"], environment: ["X": "it's"],
                                       stdin: Array("in".utf8)))
                try script.run(Command(["echo", "-n", "a\\tb"]))
                try script.stat("\(root)/a/b/f", content: true)
                try script.stat("\(root)/l", content: true)
                try script.stat("\(root)/a", content: true)
                try script.stat("\(root)/missing/x", content: false)
                try script.perform(.remove(path: "\(root)/a"))
                try script.stat("\(root)/a", content: false)
            }
            XCTAssertEqual(replies.count, 14)
            // Times and the folder name differ between runs; the rest must match.
            results[shell.name] = replies.map { reply in
                guard case .file(var state) = reply else {
                    if case .failure(let message) = reply { return .failure(message.replacingOccurrences(of: root, with: "ROOT")) }
                    return reply
                }
                state.modified = 0
                if state.kind == .directory { state.size = 0 }
                return .file(state)
            }
        }
        let dash = try XCTUnwrap(results["dash"])
        XCTAssertEqual(dash[0], .done)
        XCTAssertEqual(dash[5], .failure("touch ROOT/nothing: No such file or directory"))
        XCTAssertEqual(dash[6], .command(CommandOutput(status: 5, stdout: "in", stderr: "it's\n")))
        XCTAssertEqual(dash[7], .command(CommandOutput(status: 0, stdout: "a\\tb")))
        if case .file(let state) = dash[8] {
            XCTAssertEqual(state.mode, 0o4711)
            XCTAssertEqual(state.content, [1])
        } else {
            XCTFail("\(dash[8])")
        }
        XCTAssertEqual(dash[11], .missing)
        XCTAssertEqual(dash[13], .missing)
        for (name, replies) in results where name != "dash" {
            XCTAssertEqual(replies, dash, name)
        }
    }

    /// Probes start together (up to eight at a time) yet answer in their own order: the first only
    /// succeeds if the second has run meanwhile, and twenty more finish in scrambled order.
    func testProbesRunTogetherAndAnswerInOrder() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("provision-probes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for shell in Self.shells where FileManager.default.isExecutableFile(atPath: shell.argv[0]) {
            let flag = folder.appendingPathComponent("\(shell.name)-flag").path
            var commands: [[String]] = [
                ["sh", "-c", "i=0; while [ ! -e \"$1\" ]; do i=$((i + 1)); [ $i -gt 100 ] && exit 9; sleep 0.05; done; echo saw", "sh", flag],
                ["sh", "-c", ": > \"$1\"", "sh", flag],
            ]
            for index in 0..<20 {
                // Later probes sleep less, so they end before earlier ones.
                commands.append(["sh", "-c", "sleep 0.0$((9 - $1 % 10)); echo out$1; echo err$1 >&2; exit $(($1 % 4))", "sh", String(index)])
            }
            let replies = try replies(shell.argv) { try $0.startProbes(commands); try $0.collectProbes(commands.count) }
            guard case .commands(let outputs)? = replies.first else { return XCTFail("\(shell.name): \(replies)") }
            XCTAssertEqual(outputs.count, commands.count, shell.name)
            XCTAssertEqual(outputs.first, CommandOutput(status: 0, stdout: "saw\n"), shell.name)
            for index in 0..<20 where outputs.count == commands.count {
                XCTAssertEqual(outputs[index + 2], CommandOutput(status: Int32(index % 4), stdout: "out\(index)\n", stderr: "err\(index)\n"),
                               "\(shell.name) probe \(index)")
            }
        }
    }

    /// `/bin/sh -c` probes run in a subshell of the session's shell: the same arguments, status and output
    /// as their own sh would give, nothing they do reaches the session, and files read in between still answer.
    func testShellScriptProbesRunInTheSessionsShellAsTheirOwn() throws {
        let commands: [[String]] = [
            ["/bin/sh", "-c", "echo \"$#:$1:$2\"; echo e >&2; exit 3", "name", "a b", "-x"],
            ["/bin/sh", "-c", "echo $#"],
            // Clobbers what the session keeps (its scratch folder's name, its folder) and leaves on an EXIT trap.
            ["/bin/sh", "-c", "pv_D=/nonexistent pv_st=9; cd /; trap 'echo trapped' EXIT; exit 0", "clobber"],
            ["/bin/sh", "-c", "echo \"$1\"; read -r p _ </proc/self/stat; [ \"$p\" = \"$$\" ] && echo own", "own", "after"],
        ]
        var text = RemoteShellScript()
        try text.startProbes(commands)
        XCTAssertEqual(text.text.split(separator: "\n").filter { $0.hasPrefix("pv_runs ") }.count, 3, text.text)
        for script in ["echo $0", "echo ${0##*/}", "echo $$", "x=$$$1"] {
            XCTAssertNil(RemoteShellScript.inShell(["/bin/sh", "-c", script]), script)
        }
        for script in ["echo $1 ${10} $# $", "echo {0} 0$ $ 0", "echo ${x:-0}"] {
            XCTAssertEqual(RemoteShellScript.inShell(["/bin/sh", "-c", script, "name", "a"])?.arguments, ["a"], script)
        }
        XCTAssertNil(RemoteShellScript.inShell(["/bin/bash", "-c", "echo"]))
        for shell in Self.shells where FileManager.default.isExecutableFile(atPath: shell.argv[0]) {
            let replies = try replies(shell.argv) {
                try $0.startProbes(commands)
                try $0.stat("/", content: false)
                try $0.collectProbes(commands.count)
            }
            guard replies.count == 2, case .file = replies[0], case .commands(let outputs) = replies[1] else {
                return XCTFail("\(shell.name): \(replies)")
            }
            XCTAssertEqual(outputs, [
                CommandOutput(status: 3, stdout: "2:a b:-x\n", stderr: "e\n"),
                CommandOutput(status: 0, stdout: "0\n"),
                CommandOutput(status: 0, stdout: "trapped\n"),
                // A script naming `$$` keeps its own sh, whose pid `$$` is.
                CommandOutput(status: 0, stdout: "after\nown\n"),
            ], shell.name)
        }
    }
}
