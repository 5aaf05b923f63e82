import Foundation
import XCTest
@testable import Modules
@testable import Provisioner

/// The read-only probes modules ask for, run here against real coreutils and
/// findutils, so their argv and parsing are known to agree with the tools.
final class ModuleHostProbesTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("provision-probes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try Data("x".utf8).write(to: folder.appendingPathComponent("sub/file"))
        try FileManager.default.createSymbolicLink(atPath: folder.appendingPathComponent("link").path, withDestinationPath: "sub/file")
        chmod(folder.appendingPathComponent("sub/file").path, 0o640)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    func run(_ observation: Observation) throws -> CommandOutput {
        let argv = observation.argv
        let executable = argv[0].hasPrefix("/") ? argv[0] : "/usr/bin/env"
        let arguments = argv[0].hasPrefix("/") ? Array(argv.dropFirst()) : argv
        let result = try TestSupport.run(executable, arguments)
        return CommandOutput(status: result.status, stdout: result.stdout, stderr: result.stderr)
    }

    func testStatFollowsLinksAndReadsAttributes() throws {
        let link = folder.appendingPathComponent("link").path
        let followed = try XCTUnwrap(HostProbes.parseStat(try run(HostProbes.stat(link, follow: true))))
        XCTAssertEqual(followed.state.kind, .file)
        XCTAssertEqual(followed.state.mode, 0o640)
        XCTAssertGreaterThan(followed.accessed, 0)
        let own = try XCTUnwrap(HostProbes.parseStat(try run(HostProbes.stat(link, follow: false))))
        XCTAssertEqual(own.state.kind, .link)
        XCTAssertNil(HostProbes.parseStat(try run(HostProbes.stat(folder.appendingPathComponent("none").path, follow: true))))
    }

    func testTreeListsEverythingBelow() throws {
        let entries = try XCTUnwrap(HostProbes.parseTree(try run(HostProbes.tree(folder.path, follow: true))))
        let byName = Dictionary(uniqueKeysWithValues: entries.map { (PathText.base(of: $0.path), $0.state) })
        XCTAssertEqual(Set(byName.keys), ["sub", "file", "link"])
        XCTAssertEqual(byName["file"]?.mode, 0o640)
        XCTAssertEqual(byName["sub"]?.kind, .directory)
        XCTAssertEqual(byName["link"]?.kind, .link)
    }

    func testEmptinessIdentityEpochAndGlob() throws {
        XCTAssertEqual(try run(HostProbes.firstEntry(folder.appendingPathComponent("sub").path)).stdout.isEmpty, false)
        let identity = try run(HostProbes.identity(folder.appendingPathComponent("sub/file").path))
        XCTAssertEqual(FileModule.identity(identity)?.links, 1)
        let epoch = try run(HostProbes.epoch("1970-01-02 00:00:00"))
        XCTAssertEqual(epoch.status, 0)
        XCTAssertNotNil(Int(epoch.stdout.trimming("\n")))
        XCTAssertEqual(try run(HostProbes.glob(folder.path + "/s*")).status, 0)
        XCTAssertNotEqual(try run(HostProbes.glob(folder.path + "/q*")).status, 0)
    }

    func testAccountDatabaseFormats() throws {
        let root = try XCTUnwrap(AccountDatabase.user(try run(.command(["getent", "passwd", "root"]))))
        XCTAssertEqual(root.uid, 0)
        let groups = AccountDatabase.groups(try run(.command(["getent", "group", "root", "no-such-group-xyz"])))
        XCTAssertEqual(groups.map(\.name), ["root"])
        XCTAssertEqual(AccountDatabase.find("0", in: groups)?.name, "root")
    }
}
