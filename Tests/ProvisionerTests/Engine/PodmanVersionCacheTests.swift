import Foundation
import XCTest
@testable import Provisioner

/// Facts take podman's version from the controller's cache only while the host's podman binary is
/// the one it was recorded for; anything else asks podman and records the answer.
final class PodmanVersionCacheTests: XCTestCase {
    func testTheCacheFollowsXDGThenHomeAndIsPerHost() throws {
        let a = try XCTUnwrap(PodmanVersionCache(host: "ssh root@a", environment: ["XDG_CACHE_HOME": "/x", "HOME": "/h"]))
        let b = try XCTUnwrap(PodmanVersionCache(host: "ssh root@b", environment: ["HOME": "/h"]))
        XCTAssertTrue(a.file.hasPrefix("/x/provision/podman/"), a.file)
        XCTAssertTrue(b.file.hasPrefix("/h/.cache/provision/podman/"), b.file)
        XCTAssertNotEqual((a.file as NSString).lastPathComponent, (b.file as NSString).lastPathComponent)
        XCTAssertNil(PodmanVersionCache(host: "h", environment: ["HOME": "relative"]))
    }

    func testAVersionIsUsedOnlyForTheBinaryItWasRecordedFor() throws {
        guard let podman = TestSupport.which("podman") else { throw XCTSkip("podman is not installed") }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("provision-podman-cache-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let cache = try XCTUnwrap(PodmanVersionCache(host: "local", environment: ["XDG_CACHE_HOME": folder]))
        let real = try TestSupport.run(podman, ["--version"]).stdout.split(separator: " ").last.map {
            $0.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        // Nothing recorded: podman is asked, and the answer is recorded with the binary's stat line.
        let first = try Facts.gather("localhost", via: LocalTransport(), cache: cache)
        XCTAssertEqual(first["podman_version"], real.map(Value.string))
        let recorded = try XCTUnwrap(cache.load())
        XCTAssertTrue(recorded.binary.hasPrefix(podman + " "), recorded.binary)
        XCTAssertEqual(recorded.version, real)

        // The same binary: the recorded version is taken as it is (a marker proves podman was not asked).
        cache.store(binary: recorded.binary, version: "0.0.0-recorded")
        XCTAssertEqual(try Facts.gather("localhost", via: LocalTransport(), cache: cache)["podman_version"], "0.0.0-recorded")

        // Another binary (a different stat line, as after an upgrade): podman is asked again.
        cache.store(binary: recorded.binary + "-old", version: "0.0.0-recorded")
        XCTAssertEqual(try Facts.gather("localhost", via: LocalTransport(), cache: cache)["podman_version"], real.map(Value.string))
        XCTAssertEqual(cache.load()?.version, real)
    }
}
