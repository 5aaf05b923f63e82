import Foundation
import XCTest
@testable import Modules
@testable import Provisioner

final class ModuleSysctlTests: XCTestCase {
    typealias F = ModuleFixture

    let file = SysctlModule.defaultFile

    func sysctl(_ arguments: KeyValuePairs<String, Value>) throws -> SysctlModule { try F.make(SysctlModule.self, arguments) }

    func probe(_ key: String, _ path: String) -> [String] { ["/bin/sh", "-c", SysctlModule.probeScript, "sh", key, path] }

    /// Plans `net.ipv4.ip_forward` (or `key`) with the file's text (nil: missing) and the probe's answer.
    func plan(_ arguments: KeyValuePairs<String, Value>, file text: String?, live: CommandOutput?,
              key: String = "net.ipv4.ip_forward", path: String = "/proc/sys/net/ipv4/ip_forward") throws -> Plan {
        let module = try sysctl(arguments)
        return try F.plan(module, files: text.map { [file: F.file($0)] } ?? [:],
                          commands: live.map { [probe(key, path): $0] } ?? [:])
    }

    let forward: KeyValuePairs<String, Value> = ["name": "net.ipv4.ip_forward", "value": 1]

    func testDeclarationAndValues() throws {
        XCTAssertEqual(try sysctl(["key": "vm.swappiness", "val": 10]).value, "10")
        XCTAssertEqual(try sysctl(["name": "net.ipv4.ip_forward", "value": true]).value, "1")
        XCTAssertEqual(try sysctl(["name": "net.ipv4.ip_forward", "value": false]).value, "0")
        XCTAssertEqual(try sysctl(["name": "net.ipv4.ip_forward", "value": "yes"]).value, "1")
        XCTAssertEqual(try sysctl(["name": "net.ipv4.ip_local_port_range", "value": .list([32768, 60999])]).value, "32768 60999")
        XCTAssertEqual(try sysctl(["name": "kernel.core_pattern", "value": " core.%p "]).value, "core.%p")
        XCTAssertTrue(try sysctl(forward).reload)
        XCTAssertEqual(try sysctl(forward).file, "/etc/sysctl.d/90-provision.conf")
        XCTAssertThrowsError(try sysctl(["name": "vm.swappiness"])) { error in
            XCTAssertEqual((error as? ModuleError)?.message, "sysctl needs a value for vm.swappiness (or state: absent to remove it)")
        }
        XCTAssertNoThrow(try sysctl(["name": "vm.swappiness", "state": "absent"]))
        XCTAssertThrowsError(try sysctl(["name": "vm swappiness", "value": 1])) { error in
            XCTAssertEqual((error as? ModuleError)?.argument, "name")
        }
        XCTAssertThrowsError(try sysctl(["name": "vm.swappiness", "value": 1, "sysctl_file": "x.conf"]))
        XCTAssertEqual(ModuleCatalog.all.filter { $0 == SysctlModule.self }.count, 1)
    }

    func testProbeRunsUnderDash() throws {
        // The real probe on this machine: a value, a multi-value key (tab-separated), an unknown key.
        func run(_ key: String) throws -> (Int32, String, String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            let module = try sysctl(["name": .string(key), "value": 1])
            process.arguments = Array(module.probe.dropFirst())
            let out = Pipe(), err = Pipe()
            process.standardOutput = out
            process.standardError = err
            try process.run()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
                    String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
        }
        guard FileManager.default.fileExists(atPath: "/proc/sys/net/ipv4/ip_local_port_range"),
              FileManager.default.fileExists(atPath: "/sbin/sysctl") || FileManager.default.fileExists(atPath: "/usr/sbin/sysctl")
        else { throw XCTSkip("no sysctl here") }
        let range = try run("net.ipv4.ip_local_port_range")
        XCTAssertEqual(range.0, 0)
        XCTAssertTrue(range.1.contains("\t"), range.1)
        let unknown = try run("nope.nothing")
        XCTAssertEqual(unknown.0, 3)
        XCTAssertTrue(unknown.2.contains("nope"), unknown.2)
    }

    func testObservations() throws {
        XCTAssertEqual(try sysctl(forward).observations(ModuleContext()),
                       [.file(path: file, content: true), .command(probe("net.ipv4.ip_forward", "/proc/sys/net/ipv4/ip_forward"))])
        XCTAssertEqual(try sysctl(["name": "vm.swappiness", "value": 1, "reload": false]).observations(ModuleContext()),
                       [.file(path: file, content: true)])
        XCTAssertEqual(try sysctl(["name": "vm.swappiness", "state": "absent"]).observations(ModuleContext()),
                       [.file(path: file, content: true)])
    }

    func testMissingFileIsCreatedAndLiveValueSet() throws {
        let result = try plan(forward, file: nil, live: F.ok("0\n"))
        XCTAssertEqual(result.summaries, ["create \(file) with net.ipv4.ip_forward = 1", "set live net.ipv4.ip_forward to 1 (was 0)"])
        XCTAssertEqual(result.written, "net.ipv4.ip_forward = 1\n")
        XCTAssertEqual(result.actions.last, .run(Command(["sysctl", "-w", "net.ipv4.ip_forward=1"])))
        guard case .writeFile(_, _, let attributes, _)? = result.actions.first else { return XCTFail("no write") }
        XCTAssertEqual(attributes.mode, 0o644)
        XCTAssertEqual(result.changes.first?.diff, TextDiff(label: file, before: "", after: "net.ipv4.ip_forward = 1\n"))
        XCTAssertEqual(result.result["live_value"], "0")
    }

    func testLineWithOtherValueIsReplacedOthersKept() throws {
        let before = "# routing\nvm.swappiness=10\n net.ipv4.ip_forward=0 \nkernel.pid_max = 65536\n"
        let result = try plan(forward, file: before, live: F.ok("1\n"))
        XCTAssertEqual(result.summaries, ["set in \(file): net.ipv4.ip_forward = 1"])
        XCTAssertEqual(result.written, "# routing\nvm.swappiness=10\nnet.ipv4.ip_forward = 1\nkernel.pid_max = 65536\n")
    }

    func testDuplicateLinesLeaveOne() throws {
        let result = try plan(forward, file: "net.ipv4.ip_forward = 1\nx.y = 2\nnet.ipv4.ip_forward = 0\n", live: F.ok("1\n"))
        XCTAssertEqual(result.written, "net.ipv4.ip_forward = 1\nx.y = 2\n")
    }

    func testConvergedIsNoChange() throws {
        XCTAssertFalse(try plan(forward, file: "net.ipv4.ip_forward=1\n", live: F.ok("1\n")).isChanged)
        XCTAssertFalse(try plan(forward, file: "# c\n-net.ipv4.ip_forward = 1\n", live: F.ok("1\n")).isChanged)
        // Read-only /proc/sys is no problem while the live value is already right.
        XCTAssertFalse(try plan(forward, file: "net.ipv4.ip_forward = 1\n", live: F.ok("1\nREADONLY\n")).isChanged)
    }

    func testOnlyLiveValueDiffers() throws {
        let result = try plan(forward, file: "net.ipv4.ip_forward = 1\n", live: F.ok("0\n"))
        XCTAssertEqual(result.summaries, ["set live net.ipv4.ip_forward to 1 (was 0)"])
        XCTAssertEqual(result.actions, [.run(Command(["sysctl", "-w", "net.ipv4.ip_forward=1"]))])
    }

    func testUnknownKeyIsRefused() throws {
        let result = try plan(forward, file: nil,
                              live: F.failed(3, "", "sysctl: cannot stat /proc/sys/net/ipv4/ip_forward: No such file or directory\n"))
        XCTAssertEqual(result.failure, "the kernel has no sysctl net.ipv4.ip_forward "
            + "(sysctl: cannot stat /proc/sys/net/ipv4/ip_forward: No such file or directory)")
        XCTAssertTrue(result.changes.isEmpty)
        XCTAssertEqual(try plan(forward, file: nil, live: F.failed(4)).failure,
                       "sysctl is not installed on this host (package procps); install it or set reload: false")
    }

    func testAKeyTheKernelCannotReadIsNotCalledUnknown() throws {
        let result = try plan(forward, file: nil, live: F.failed(5, "", "sysctl: reading key \"net.ipv4.ip_forward\": Input/output error\n"))
        XCTAssertEqual(result.failure, "the kernel cannot read net.ipv4.ip_forward (sysctl: reading key \"net.ipv4.ip_forward\": "
            + "Input/output error); set reload: false to write only the file")
    }

    /// The real probe under dash and busybox: a read-only key (0444 even for root), a writable one, an unknown one.
    func testTheProbeUnderRealShells() throws {
        guard FileManager.default.isExecutableFile(atPath: "/sbin/sysctl") || FileManager.default.isExecutableFile(atPath: "/usr/sbin/sysctl")
        else { throw XCTSkip("procps is not installed") }
        let shells = [["/bin/dash"], ["/bin/busybox", "sh"]].filter { FileManager.default.isExecutableFile(atPath: $0[0]) }
        for shell in shells {
            func probe(_ key: String) throws -> TestSupport.Result {
                let module = try F.make(SysctlModule.self, ["name": .string(key), "value": "1"])
                return try TestSupport.run(shell[0], Array(shell.dropFirst()) + Array(module.probe.dropFirst()),
                                           environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"])
            }
            let ostype = try probe("kernel.ostype")
            XCTAssertEqual(ostype.status, 0, "\(shell)")
            XCTAssertEqual(ostype.stdout, "Linux\nREADONLY\n", "\(shell)")
            XCTAssertEqual(try probe("kernel.no_such_key").status, 3, "\(shell)")
            // Whether this machine lets us write it, asked of the kernel directly.
            let fd = open("/proc/sys/kernel/domainname", O_WRONLY | O_APPEND)
            if fd >= 0 { close(fd) }
            XCTAssertEqual(try probe("kernel.domainname").stdout.hasSuffix("READONLY\n"), fd < 0, "\(shell)")
        }
    }

    func testReadOnlyProcSysIsRefusedWhenLiveDiffers() throws {
        let result = try plan(forward, file: nil, live: F.ok("0\nREADONLY\n"))
        XCTAssertEqual(result.failure, "the kernel refuses net.ipv4.ip_forward here: /proc/sys is read-only (a container?); "
            + "set reload: false to write only the file")
    }

    func testMultiValueComparesSplitOnWhitespace() throws {
        let key = "net.ipv4.ip_local_port_range", path = "/proc/sys/net/ipv4/ip_local_port_range"
        let arguments: KeyValuePairs<String, Value> = ["name": "net.ipv4.ip_local_port_range", "value": "32768 60999"]
        XCTAssertFalse(try plan(arguments, file: "net.ipv4.ip_local_port_range = 32768   60999\n",
                                live: F.ok("32768\t60999\n"), key: key, path: path).isChanged)
        let result = try plan(arguments, file: "net.ipv4.ip_local_port_range = 32768 60999\n",
                              live: F.ok("1024\t65000\n"), key: key, path: path)
        XCTAssertEqual(result.actions, [.run(Command(["sysctl", "-w", "net.ipv4.ip_local_port_range=32768 60999"]))])
        XCTAssertEqual(result.summaries, ["set live net.ipv4.ip_local_port_range to 32768 60999 (was 1024 65000)"])
    }

    func testAbsentRemovesTheLineOnly() throws {
        let arguments: KeyValuePairs<String, Value> = ["name": "net.ipv4.ip_forward", "state": "absent"]
        let result = try plan(arguments, file: "a.b = 1\nnet/ipv4/ip_forward = 1\nc.d = 2", live: nil)
        XCTAssertEqual(result.summaries, ["remove from \(file): net.ipv4.ip_forward"])
        XCTAssertEqual(result.written, "a.b = 1\nc.d = 2\n")
        XCTAssertFalse(try plan(arguments, file: "a.b = 1\n", live: nil).isChanged)
        XCTAssertFalse(try plan(arguments, file: nil, live: nil).isChanged)
    }

    func testReloadFalseWritesOnlyTheFile() throws {
        let result = try plan(["name": "net.ipv4.ip_forward", "value": 1, "reload": false], file: "x.y = 1", live: nil)
        XCTAssertEqual(result.written, "x.y = 1\nnet.ipv4.ip_forward = 1\n", "a missing final newline is added first")
        XCTAssertEqual(result.changes.count, 1)
        XCTAssertFalse(result.actions.contains { if case .run = $0 { return true } else { return false } })
    }

    func testSlashKeysEqualDottedOnes() throws {
        XCTAssertFalse(try plan(forward, file: "net/ipv4/ip_forward = 1\n", live: F.ok("1\n")).isChanged)
        let slash = try plan(["name": "net/ipv4/ip_forward", "value": 1], file: "net.ipv4.ip_forward = 0\n", live: F.ok("1\n"),
                             key: "net/ipv4/ip_forward")
        XCTAssertEqual(slash.written, "net/ipv4/ip_forward = 1\n")
        // In slash form dots belong to names (a VLAN interface): the /proc/sys path keeps them.
        XCTAssertEqual(try sysctl(["name": "net/ipv4/conf/eth0.100/rp_filter", "value": 1]).procPath,
                       "/proc/sys/net/ipv4/conf/eth0.100/rp_filter")
        XCTAssertEqual(SysctlModule.canonical("net/ipv4/conf/eth0.100/rp_filter"), "net.ipv4.conf.eth0/100.rp_filter")
        XCTAssertFalse(try plan(["name": "net/ipv4/conf/eth0.100/rp_filter", "value": 1],
                                file: "net.ipv4.conf.eth0/100.rp_filter = 1\n", live: F.ok("1\n"),
                                key: "net/ipv4/conf/eth0.100/rp_filter", path: "/proc/sys/net/ipv4/conf/eth0.100/rp_filter").isChanged)
    }
}
