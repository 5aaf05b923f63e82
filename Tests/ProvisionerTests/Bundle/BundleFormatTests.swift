import Foundation
import XCTest
@testable import Provisioner

/// MANIFEST, verification, split and join on real files in a scratch folder.
final class BundleFormatTests: XCTestCase {
    var scratch = ""

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("bundle-format-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: scratch) }

    func write(_ path: String, _ bytes: [UInt8]) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
    }

    /// A bundle of three files, one of 300 KiB of varied bytes so it spans parts.
    func makeBundle() throws -> String {
        let big = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 7) }
        try write(scratch + "/src/model.gguf", big)
        var writer = BundleWriter()
        try writer.add(path: "models/model.gguf", file: scratch + "/src/model.gguf")
        try writer.add(path: "install.sh", bytes: Array("#!/bin/sh\necho hi\n".utf8), mode: 0o755)
        try writer.add(path: "project/play.yml", bytes: Array("- hosts: all\n".utf8))
        try writer.write(to: scratch + "/bundle")
        return scratch + "/bundle"
    }

    func testHasherMatchesOneShotDigestAcrossChunkBoundaries() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        for split in [0, 1, 55, 63, 64, 65, 999] {
            var hasher = SHA256Hasher()
            hasher.update(Array(bytes[..<split]))
            hasher.update(Array(bytes[split...]))
            XCTAssertEqual(hasher.finalizeHex(), SHA256.hex(bytes), "split at \(split)")
        }
        var empty = SHA256Hasher()
        XCTAssertEqual(empty.finalizeHex(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    func testWriterRecordsWhatSha256sumSaysAndVerifies() throws {
        let bundle = try makeBundle()
        let manifest = try BundleManifest.verify(bundle: bundle)
        XCTAssertEqual(manifest.entries.map(\.path), ["install.sh", "models/model.gguf", "project/play.yml"])
        XCTAssertEqual(manifest.entries[0].mode, 0o755)
        let sum = try TestSupport.run("/usr/bin/sha256sum", [bundle + "/models/model.gguf"])
        XCTAssertEqual(String(sum.stdout.prefix(64)), manifest.entries[1].sha256)
        XCTAssertEqual(try BundleManifest.parse(manifest.text), manifest)
        XCTAssertThrowsError(try BundleWriter().write(to: bundle)) { XCTAssertTrue("\($0)".contains("exists already")) }
    }

    func testVerifyNamesChangedMissingAndUnlistedFiles() throws {
        let bundle = try makeBundle()
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: bundle + "/models/model.gguf")))
        bytes[1000] ^= 1
        try write(bundle + "/models/model.gguf", bytes)
        XCTAssertThrowsError(try BundleManifest.verify(bundle: bundle)) { XCTAssertTrue("\($0)".contains("models/model.gguf: sha256 mismatch"), "\($0)") }
        try FileManager.default.removeItem(atPath: bundle + "/install.sh")
        try write(bundle + "/extra.bin", [1])
        XCTAssertThrowsError(try BundleManifest.verify(bundle: bundle)) {
            XCTAssertTrue("\($0)".contains("install.sh: missing"), "\($0)")
            XCTAssertTrue("\($0)".contains("extra.bin: not in the MANIFEST"), "\($0)")
        }
    }

    func testAlteredManifestFailsItsAggregate() throws {
        let bundle = try makeBundle()
        let text = try String(contentsOfFile: bundle + "/MANIFEST", encoding: .utf8)
        try write(bundle + "/MANIFEST", Array(text.replacingOccurrences(of: "  755  ", with: "  777  ").utf8))
        XCTAssertThrowsError(try BundleManifest.verify(bundle: bundle)) { XCTAssertTrue("\($0)".contains("aggregate checksum mismatch"), "\($0)") }
    }

    func testSizes() throws {
        XCTAssertEqual(try BundleParts.parseSize("16G"), 16 << 30)
        XCTAssertEqual(try BundleParts.parseSize("700MiB"), 700 << 20)
        XCTAssertEqual(try BundleParts.parseSize("1.5g"), 3 << 29)
        XCTAssertThrowsError(try BundleParts.parseSize("lots"))
        XCTAssertThrowsError(try BundleParts.parseSize("1K")) { XCTAssertTrue("\($0)".contains("too small")) }
    }

    func testSplitAndJoinRoundTrip() throws {
        let bundle = try makeBundle()
        let parts = try BundleParts.split(bundle: bundle, size: 100_000, output: scratch + "/usb")
        XCTAssertEqual(parts.count, 4)
        for part in parts { XCTAssertLessThanOrEqual(BundleIO.fileSize(part) ?? .max, 100_000) }
        let manifest = try BundleParts.join([scratch + "/usb"], output: scratch + "/joined")
        XCTAssertEqual(manifest, try BundleManifest.verify(bundle: scratch + "/joined"))
        XCTAssertEqual(BundleIO.fileMode(scratch + "/joined/install.sh"), 0o755)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: scratch + "/joined/models/model.gguf")),
                       try Data(contentsOf: URL(fileURLWithPath: bundle + "/models/model.gguf")))
    }

    func testJoinRefusesCorruptPartNamingItAndLeavesNothing() throws {
        let parts = try BundleParts.split(bundle: try makeBundle(), size: 100_000, output: scratch + "/usb")
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: parts[2])))
        bytes[50_000] ^= 0x40
        try write(parts[2], bytes)
        XCTAssertThrowsError(try BundleParts.join([scratch + "/usb"], output: scratch + "/joined")) {
            XCTAssertTrue("\($0)".contains("part 3 of 4 (\(parts[2])) is corrupt"), "\($0)")
            XCTAssertTrue("\($0)".contains("nothing was extracted"), "\($0)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch + "/joined"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch).filter { $0.contains("partial") }, [])
    }

    func testJoinRefusesMissingAndTruncatedParts() throws {
        let parts = try BundleParts.split(bundle: try makeBundle(), size: 100_000, output: scratch + "/usb")
        try FileManager.default.removeItem(atPath: parts[1])
        let handle = try XCTUnwrap(FileHandle(forUpdatingAtPath: parts[3]))
        try handle.truncate(atOffset: 10)
        try handle.close()
        let third = try XCTUnwrap(FileHandle(forUpdatingAtPath: parts[2]))
        try third.truncate(atOffset: 5000)
        try third.close()
        XCTAssertThrowsError(try BundleParts.join(parts.filter { $0 != parts[1] }, output: scratch + "/joined")) {
            XCTAssertTrue("\($0)".contains("part 2 of 4 (bundle.part-002) is missing"), "\($0)")
            XCTAssertTrue("\($0)".contains("part 3 of 4 (\(parts[2])) is 5000 bytes"), "\($0)")
            XCTAssertTrue("\($0)".contains("part 4 of 4 (\(parts[3])) has no readable header"), "\($0)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch + "/joined"))
        try FileManager.default.removeItem(atPath: parts[0])
        XCTAssertThrowsError(try BundleParts.join([scratch + "/usb"], output: scratch + "/joined")) {
            XCTAssertTrue("\($0)".contains("no first part"), "\($0)")
        }
    }
}
