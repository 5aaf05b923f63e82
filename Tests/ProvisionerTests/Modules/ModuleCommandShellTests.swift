import XCTest
@testable import Modules
@testable import Provisioner

final class ModuleCommandShellTests: XCTestCase {
    typealias F = ModuleFixture

    func command(_ arguments: KeyValuePairs<String, Value>) throws -> CommandModule { try F.make(CommandModule.self, arguments) }
    func shell(_ arguments: KeyValuePairs<String, Value>) throws -> ShellModule { try F.make(ShellModule.self, arguments) }

    enum Split: Equatable { case success([String]), failure(String) }

    /// Each row is what Python's shlex.split gives.
    func testFreeFormSplitsAsPythonShlex() {
        let table: [(String, Split)] = [
            ("echo hi", .success(["echo", "hi"])),
            ("echo \"a b\" c", .success(["echo", "a b", "c"])),
            ("echo 'a \\\" b'", .success(["echo", "a \\\" b"])),
            ("a\\ b", .success(["a b"])),
            ("\"a\\\"b\"", .success(["a\"b"])),
            ("\"a\\nb\"", .success(["a\\nb"])),
            ("''", .success([""])),
            ("x \"\" y", .success(["x", "", "y"])),
            ("a\"b c\"d", .success(["ab cd"])),
            ("it's", .failure("No closing quotation")),
            ("tab\there", .success(["tab", "here"])),
            ("a \\\\ b", .success(["a", "\\", "b"])),
            ("\"\\\\\"", .success(["\\"])),
            ("echo $HOME *.txt", .success(["echo", "$HOME", "*.txt"])),
            ("'a'\"b\"c", .success(["abc"])),
            ("  lead  trail  ", .success(["lead", "trail"])),
            ("new\nline", .success(["new", "line"])),
            ("bad\"", .failure("No closing quotation")),
            ("end\\", .failure("No escaped character")),
        ]
        for (text, expected) in table {
            let got: Split
            do { got = .success(try Shlex.split(text, argument: "cmd")) } catch { got = .failure((error as? ModuleError)?.message ?? "") }
            XCTAssertEqual(got, expected, text)
        }
    }

    func testCommandRunsWithoutAShell() throws {
        XCTAssertFalse(CommandModule.supportsCheckMode)
        XCTAssertEqual(CommandModule.freeFormArgument, "cmd")
        let plan = try F.plan(try command(["cmd": "touch '/tmp/a b'", "chdir": "/srv", "stdin": "yes"]))
        XCTAssertEqual(plan.summaries, ["run touch /tmp/a b"])
        XCTAssertEqual(plan.actions, [.run(Command(["touch", "/tmp/a b"], stdin: Array("yes\n".utf8), directory: "/srv"))])
        XCTAssertEqual(plan.result["cmd"], ["touch", "/tmp/a b"])
    }

    func testArgvIsTakenAsIs() throws {
        let plan = try F.plan(try command(["argv": ["printf", "%s\n", "a b"], "stdin": "x", "stdin_add_newline": false]))
        XCTAssertEqual(plan.actions, [.run(Command(["printf", "%s\n", "a b"], stdin: Array("x".utf8)))])
    }

    func testCreatesAndRemovesGuardTheCommand() throws {
        let module = try command(["cmd": "make install", "creates": "bin/tool", "chdir": "/src"])
        // Relative guards are relative to chdir, as Ansible changes directory first.
        let done = try F.plan(module, files: ["/src/bin/tool": F.file("")])
        XCTAssertFalse(done.isChanged)
        XCTAssertNil(done.skipReason)
        XCTAssertEqual(done.result["msg"], "Did not run command since '/src/bin/tool' exists")
        XCTAssertEqual(done.result["stdout"], "skipped, since /src/bin/tool exists")
        XCTAssertEqual(done.result["rc"], 0)
        XCTAssertEqual(try F.plan(module).actions, [.run(Command(["make", "install"], directory: "/src"))])

        let removes = try command(["cmd": "rm /tmp/lock", "removes": "/tmp/lock"])
        XCTAssertEqual(try F.plan(removes).result["msg"], "Did not run command since '/tmp/lock' does not exist")
        XCTAssertTrue(try F.plan(removes, files: ["/tmp/lock": F.file("")]).isChanged)
    }

    func testGlobGuardsAskTheHost() throws {
        let module = try command(["cmd": "tar xf a.tar", "creates": "/opt/app-*"])
        let probe = HostProbes.glob("/opt/app-*").argv
        XCTAssertEqual(probe, ["/bin/sh", "-c", "IFS=; set -- $1; [ -e \"$1\" ] || [ -L \"$1\" ]", "sh", "/opt/app-*"])
        XCTAssertFalse(try F.plan(module, commands: [probe: F.ok("")]).isChanged)
        XCTAssertTrue(try F.plan(module, commands: [probe: F.failed()]).isChanged)
    }

    func testCommandErrors() {
        XCTAssertThrowsError(try command(["chdir": "/"])) { XCTAssertEqual(($0 as? ModuleError)?.argument, "cmd") }
        XCTAssertThrowsError(try command(["cmd": "a", "argv": ["b"]]))
        XCTAssertThrowsError(try command(["cmd": "echo 'unterminated"])) {
            XCTAssertEqual(($0 as? ModuleError)?.message, "No closing quotation")
        }
        XCTAssertThrowsError(try command(["cmd": "   "]))
    }

    func testShellRunsThroughShOrTheGivenExecutable() throws {
        XCTAssertFalse(ShellModule.supportsCheckMode)
        let plan = try F.plan(try shell(["cmd": "echo $HOME | wc -c > /tmp/n"]))
        XCTAssertEqual(plan.actions, [.run(Command(["/bin/sh", "-c", "echo $HOME | wc -c > /tmp/n"]))])
        let bash = try F.plan(try shell(["cmd": "set -o pipefail; x", "executable": "/bin/bash", "creates": "/done"]), files: ["/done": F.file("")])
        XCTAssertFalse(bash.isChanged)
        // As Ansible's shell: `cmd` is the script as written (command's is the argv list).
        XCTAssertEqual(bash.result["cmd"], "set -o pipefail; x")
        XCTAssertThrowsError(try shell(["chdir": "/"]))
    }
}
