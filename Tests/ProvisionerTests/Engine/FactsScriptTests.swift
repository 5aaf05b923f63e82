import Foundation
import XCTest
@testable import Provisioner

/// The facts script on this machine says what uname, id and getconf say, though it reads /proc and /sys
/// in their place (and the same with /proc and /sys out of reach: the tools then answer).
final class FactsScriptTests: XCTestCase {
    func run(_ argv: [String]) throws -> String {
        let output = try Subprocess.run(Command(argv))
        XCTAssertEqual(output.status, 0, output.stderr)
        return output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func raw(_ script: String) throws -> [String: String] {
        var raw: [String: String] = [:]
        for line in try run(["/bin/sh", "-c", script, "facts", "", ""]).split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            raw[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return raw
    }

    func testFactsAgreeWithTheTools() throws {
        let expected = ["nodename": try run(["uname", "-n"]), "kernel": try run(["uname", "-r"]), "arch": try run(["uname", "-m"]),
                        "uid": try run(["id", "-u"]), "gid": try run(["id", "-g"]), "user": try run(["id", "-un"]),
                        "cores": try run(["getconf", "_NPROCESSORS_ONLN"])]
        let podman = try? run(["/bin/sh", "-c", "command -v podman"])
        // The fallbacks: the same script with the files it reads renamed to ones that do not exist.
        let blind = Facts.script.replacingOccurrences(of: "/proc/sys/kernel/", with: "/nonexistent/")
            .replacingOccurrences(of: "/proc/self/status", with: "/nonexistent/status")
            .replacingOccurrences(of: "/sys/devices/system/cpu/online", with: "/nonexistent/online")
        for script in [Facts.script, blind] {
            let facts = try raw(script)
            for (key, value) in expected { XCTAssertEqual(facts[key], value, key) }
            XCTAssertEqual(facts["podman_binary"]?.split(separator: " ").first.map(String.init), podman.flatMap { $0.isEmpty ? nil : $0 })
        }
    }
}
