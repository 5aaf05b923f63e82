import Foundation
import XCTest
@testable import Modules
@testable import Provisioner

/// The pieces the podman modules share: unit file text, port specs, versions, image references, SHA-256,
/// and the probe scripts run for real on this machine (whose podman 4.3.1 has no quadlet).
final class PodmanSupportTests: XCTestCase {
    func testUnitFileParsingAndQuoting() throws {
        let unit = try UnitFile(parsing: "# c\n[Unit]\nDescription = a \\\n  long one\n; c\n[Container]\nVolume=a:/a\nVolume=b:/b\n", name: "x")
        XCTAssertEqual(unit.value("Unit", "Description"), "a  long one")
        XCTAssertEqual(unit.values("Container", "Volume"), ["a:/a", "b:/b"])
        XCTAssertThrowsError(try UnitFile(parsing: "Image=x\n", name: "x.container")) { XCTAssertTrue("\($0)".contains("inside a [Section]"), "\($0)") }
        XCTAssertEqual(UnitFile.quoted("A=b c"), "\"A=b c\"")
        XCTAssertEqual(UnitFile.quoted("A=\"q\""), "\"A=\\\"q\\\"\"")
        XCTAssertEqual(UnitFile.quoted("A=b"), "A=b")
        let values = try UnitFile.values(.bool(true), key: "K", section: "S", argument: "sections")
        XCTAssertEqual(values, ["true"])
        XCTAssertThrowsError(try UnitFile.values(.string("x\\"), key: "K", section: "S", argument: "sections"))
    }

    func testPortSpecs() throws {
        for good in ["80", "8080:80", "127.0.0.1:55077:11434", "127.0.0.1::80", "[::1]:8080:80", "8000-8010:8000-8010/udp", "65535:1"] {
            XCTAssertNoThrow(try PortSpec.validate(good, argument: "ports"), good)
        }
        for (bad, message) in [("66044:80", "port 66044 is out of range (1-65535)"), ("127.0.0.1:70000:80", "port 70000 is out of range (1-65535)"),
                               ("0", "port 0 is out of range (1-65535)"), ("http:80", "'http' is not a port number"), ("", "is not a port mapping")] {
            XCTAssertThrowsError(try PortSpec.validate(bad, argument: "ports"), bad) { XCTAssertTrue("\($0)".contains(message), "\($0)") }
        }
    }

    func testVersionsAndReferences() throws {
        XCTAssertEqual(PodmanVersion("5.4.2")?.parts, [5, 4, 2])
        XCTAssertLessThan(try XCTUnwrap(PodmanVersion("4.3.1")), QuadletKind.quadlet)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(PodmanVersion("4.4")), QuadletKind.quadlet)
        XCTAssertLessThan(try XCTUnwrap(PodmanVersion("4.9.3")), try XCTUnwrap(PodmanVersion("5.0.0-dev")))
        XCTAssertNil(PodmanVersion("-"))
        XCTAssertEqual(ImageReference.repository("127.0.0.1:5501/a/b:1"), "127.0.0.1:5501/a/b")
        XCTAssertEqual(ImageReference.repository("x/y@sha256:" + String(repeating: "0", count: 64)), "x/y")
        XCTAssertNoThrow(try ImageReference.checkPinned("127.0.0.1:5501/a:1", argument: "name"))
        XCTAssertThrowsError(try ImageReference.checkPinned("127.0.0.1:5501/a", argument: "name"))
        XCTAssertThrowsError(try ImageReference.checkPinned("a@sha256:123", argument: "name"))
    }

    func testSHA256() {
        XCTAssertEqual(SHA256.hex([]), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SHA256.hex([UInt8](repeating: 0x61, count: 1_000)), "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }

    /// The check script on this machine, as the engine's local transport runs it: nothing of the unit is
    /// installed here, so it asks podman for its version and looks for the generator, which podman 4.3.1 lacks.
    func testTheCheckScriptOnAHostWithoutQuadlet() throws {
        _ = try PodmanTestSupport.requirePodman()
        let module = try ModuleFixture.make(QuadletModule.self, ["name": .string("provision-test-\(UUID().uuidString.prefix(6))"), "content": "[Container]\nImage=x:1\n"])
        let check = try module.check(ModuleContext())
        let output = try TestSupport.run(check.argv[0], Array(check.argv.dropFirst()))
        XCTAssertEqual(output.status, 0, output.stderr)
        let parsed = QuadletProbe.parseCheck(CommandOutput(status: 0, stdout: output.stdout), file: module.file)
        let version = (try? TestSupport.run("/bin/sh", ["-c", "podman --version"]))?.stdout.split(separator: " ").last.map { String($0.dropLast()) }
        if let version, let parsedVersion = PodmanVersion(version), parsedVersion < QuadletKind.quadlet {
            XCTAssertEqual(parsed, .noGenerator(version))
            XCTAssertEqual(module.versionProblem(parsedVersion), "quadlet needs podman ≥ 4.4; this host has \(version)")
        } else {
            XCTAssertNotNil(parsed, output.stdout)
        }
        // The listing of a scope whose folder does not exist says so.
        let listing = QuadletProbe.listing(PodmanScope(user: nil))
        let listed = try TestSupport.run(listing.argv[0], Array(listing.argv.dropFirst()))
        XCTAssertNotNil(QuadletProbe.parseListing(CommandOutput(status: listed.status, stdout: listed.stdout)), listed.stderr)
    }
}
