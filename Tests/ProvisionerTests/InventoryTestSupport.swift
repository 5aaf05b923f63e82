import Foundation
import XCTest
@testable import Provisioner

/// A temporary directory tree for inventory tests, removed by `remove()`.
struct InventoryScratch {
    let root: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("inventory-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    /// Writes `text` at `relative`, creating folders; returns the full path.
    @discardableResult
    func write(_ relative: String, _ text: String) throws -> String {
        let url = root.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    func remove() { try? FileManager.default.removeItem(at: root) }
}

extension XCTestCase {
    /// The `ParseError` text `body` throws, failing the test when it throws nothing or something else.
    func parseError(_ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            try body()
            XCTFail("expected a ParseError", file: file, line: line)
        } catch let error as ParseError {
            return error.description
        } catch {
            XCTFail("expected a ParseError, got \(error)", file: file, line: line)
        }
        return ""
    }
}
