import XCTest
@testable import Provisioner

/// Pure pieces of the engine: no host, no files.
final class EngineUnitTests: XCTestCase {
    let specs = [
        ArgumentSpec("path", .path, required: true, aliases: ["dest"], doc: "the file"),
        ArgumentSpec("state", .string, default: "file", choices: ["file", "directory", "absent"], doc: "kind"),
        ArgumentSpec("mode", .mode, doc: "permissions"),
        ArgumentSpec("force", .bool, default: false, doc: "replace"),
        ArgumentSpec("port", .port, doc: "a port"),
        ArgumentSpec("groups", .list, doc: "groups"),
        ArgumentSpec("count", .int, doc: "how many"),
    ]

    func validate(_ args: ValueDict) throws -> ModuleArguments {
        try ModuleArguments.validate(args, against: specs, module: "demo")
    }

    func assertArgumentError(_ args: ValueDict, _ fragment: String, argument: String?, line: UInt = #line) {
        XCTAssertThrowsError(try validate(args), line: line) { error in
            let e = error as? ArgumentError
            XCTAssertEqual(e?.argument, argument, line: line)
            XCTAssertTrue(e?.message.contains(fragment) ?? false, "\(error)", line: line)
        }
    }

    func testArgumentsAreConvertedAsAnsibleDoes() throws {
        let args = try validate(["dest": "/x", "mode": "0644", "force": "yes", "port": "8080", "groups": "a, b", "count": "3"])
        XCTAssertEqual(args.string("path"), "/x")
        XCTAssertEqual(args.string("state"), "file")
        XCTAssertEqual(try args.mode("mode"), 0o644)
        XCTAssertTrue(args.bool("force"))
        XCTAssertEqual(args.int("port"), 8080)
        XCTAssertEqual(args.strings("groups"), ["a", "b"])
        XCTAssertEqual(args.int("count"), 3)
        XCTAssertEqual(try validate(["path": "/x", "mode": 420]).mode("mode"), 0o644, "YAML's 0644 is the int 420")
    }

    func testArgumentErrorsNameTheArgumentAndSuggest() {
        assertArgumentError(["path": "/x", "stat": "file"], "has no argument 'stat' (did you mean 'state'?)", argument: "stat")
        assertArgumentError(["path": "/x", "state": "directroy"], "(did you mean 'directory'?)", argument: "state")
        assertArgumentError(["state": "file"], "needs the argument 'path'", argument: nil)
        assertArgumentError(["path": "/x", "force": "perhaps"], "must be a boolean", argument: "force")
        assertArgumentError(["path": "/x", "port": 66044], "port 66044 is out of range (1-65535)", argument: "port")
        assertArgumentError(["path": "/x", "port": 0], "out of range", argument: "port")
        assertArgumentError(["path": "/x", "mode": "999"], "must be a file mode", argument: "mode")
        assertArgumentError(["path": "/x", "count": "many"], "must be an integer", argument: "count")
        assertArgumentError(["path": "/x", "dest": "/y"], "given twice", argument: "dest")
    }

    func testSymbolicModes() {
        XCTAssertEqual(FileMode.applySymbolic("u=rw,g=r,o=", to: 0o777, isDirectory: false), 0o640)
        XCTAssertEqual(FileMode.applySymbolic("a+X", to: 0o600, isDirectory: true), 0o711)
        XCTAssertEqual(FileMode.applySymbolic("go-w", to: 0o666, isDirectory: false), 0o644)
        XCTAssertNil(FileMode.applySymbolic("u+q", to: 0, isDirectory: false))
        XCTAssertEqual(FileMode.parse("0o750"), 0o750)
        XCTAssertNil(FileMode.parse("0789"))
    }

    func testSuggestions() {
        XCTAssertEqual(Suggestion.nearest(to: "lineinfle", in: ["lineinfile", "file", "copy"]), "lineinfile")
        XCTAssertEqual(Suggestion.nearest(to: "cpoy", in: ["lineinfile", "file", "copy"]), "copy")
        XCTAssertNil(Suggestion.nearest(to: "kubernetes", in: ["file", "copy"]))
    }

    func testKeyValueStringArguments() throws {
        XCTAssertEqual(try KeyValueArguments.parse("path=/x state=directory mode='0755'", freeForm: nil, names: ["path", "state", "mode"]),
                       ["path": "/x", "state": "directory", "mode": "0755"])
        XCTAssertEqual(try KeyValueArguments.parse("touch /tmp/a b=c creates=/tmp/a", freeForm: "cmd", names: ["cmd", "creates"]),
                       ["creates": "/tmp/a", "cmd": "touch /tmp/a b=c"])
        XCTAssertThrowsError(try KeyValueArguments.parse("path=/x directory", freeForm: nil, names: ["path"]))
        // A multi-line command keeps its lines (as ansible-core's parse_kv gives _raw_params for this text).
        XCTAssertEqual(try KeyValueArguments.parse("a=1\necho \"$a  b\" x\n\ny creates=/x\nz\n", freeForm: "cmd", names: ["cmd", "creates"]),
                       ["creates": "/x", "cmd": "a=1\necho \"$a  b\" x\n\ny z\n"])
    }

    func testFactsFromTheScriptsOutput() {
        let facts = Facts.parse("id=debian\nversion_id=12\ncodename=bookworm\narch=x86_64\nnodename=web1.example.org\npid1=systemd\npkg=apt-get\nuid=0\nuser=root\nnvidia=1\nnvidia_driver=550.54.14\npodman=podman version 4.3.1\nusers=root daemon ollama \n")
        XCTAssertEqual(facts["os_family"], "Debian")
        XCTAssertEqual(facts["distribution"], "Debian")
        XCTAssertEqual(facts["distribution_major_version"], "12")
        XCTAssertEqual(facts["hostname"], "web1")
        XCTAssertEqual(facts["service_mgr"], "systemd")
        XCTAssertEqual(facts["pkg_mgr"], "apt")
        XCTAssertEqual(facts["nvidia_gpu"], true)
        XCTAssertEqual(facts["nvidia_driver_version"], "550.54.14")
        XCTAssertEqual(facts["podman_version"], "4.3.1")
        XCTAssertEqual(facts["users"], ["root", "daemon", "ollama"])
        let fedora = Facts.parse("id=fedora\nversion_id=40\npid1=bash\npkg=dnf\n")
        XCTAssertEqual(fedora["os_family"], "RedHat")
        XCTAssertEqual(fedora["service_mgr"], "bash")
        XCTAssertEqual(fedora["nvidia_gpu"], false)
        XCTAssertEqual(Facts.variables(fedora)["ansible_os_family"], "RedHat")
    }

    func testRegistryAcceptsFullyQualifiedNames() {
        let registry = ModuleRegistry([])
        XCTAssertEqual(registry.resolve("ansible.builtin.debug"), "debug")
        XCTAssertEqual(registry.resolve("ansible.builtin.set_fact"), "set_fact")
        XCTAssertNil(registry.resolve("ansible.builtin.nothing"))
    }

    func testExtraVars() throws {
        XCTAssertEqual(try ExtraVars.parse("a=1 b='two words'"), ["a": "1", "b": "two words"])
        XCTAssertEqual(try ExtraVars.parse(#"{"n": 1, "l": [true]}"#), ["n": 1, "l": [true]])
        XCTAssertThrowsError(try ExtraVars.parse("novalue"))
    }

    func testSerialBatchesAndFailureBudget() throws {
        let hosts = (1...7).map { "h\($0)" }
        let here = SourceLocation(file: "p.yml", line: 1, column: 1)
        XCTAssertEqual(try Batching.batches(of: hosts, serial: 3, at: here).map(\.count), [3, 3, 1])
        XCTAssertEqual(try Batching.batches(of: hosts, serial: "30%", at: here).map(\.count), [2, 2, 2, 1])
        XCTAssertEqual(try Batching.batches(of: hosts, serial: [1, "50%"], at: here).map(\.count), [1, 3, 3])
        XCTAssertEqual(try Batching.batches(of: hosts, serial: nil, at: here).map(\.count), [7])
        XCTAssertThrowsError(try Batching.batches(of: hosts, serial: "many", at: here))
        XCTAssertTrue(Batching.exceeds(failed: 1, of: 2, maxFailPercentage: 0))
        XCTAssertFalse(Batching.exceeds(failed: 1, of: 2, maxFailPercentage: 50))
        XCTAssertTrue(Batching.exceeds(failed: 2, of: 2, maxFailPercentage: nil))
        XCTAssertFalse(Batching.exceeds(failed: 1, of: 2, maxFailPercentage: nil))
    }
}
