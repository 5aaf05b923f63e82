import Foundation
import XCTest
@testable import Provisioner

/// The suite's files as raw material for the writer, the editor and a mutation fuzzer.
final class TOMLSuitePropertyTests: XCTestCase {
    private func documents(_ kind: String = "valid") throws -> [(name: String, bytes: [UInt8])] {
        try TOMLSuite.cases(kind).map { ($0.lastPathComponent, Array(try Data(contentsOf: $0))) }
    }

    /// Random byte edits of every case: the reader must answer (value or ParseError), never crash or hang.
    func testMutatedInputsAreReadOrRejectedCleanly() throws {
        var random = SplitMix64(seed: 20_240_229)
        let interesting = Array("[]{}=\"'.,#\\\n\r\t _-+:0123456789eExob".utf8) + [0x00, 0x7F, 0x80, 0xC3, 0xFF]
        var accepted = 0, rejected = 0
        for (name, bytes) in try documents("valid") + documents("invalid") {
            for _ in 0..<30 {
                var mutated = bytes
                for _ in 0...random.next(below: 3) {
                    let at = random.next(below: mutated.count + 1)
                    let byte = interesting[random.next(below: interesting.count)]
                    switch random.next(below: 3) {
                    case 0 where at < mutated.count: mutated[at] = byte
                    case 1 where at < mutated.count: mutated.remove(at: at)
                    default: mutated.insert(byte, at: at)
                    }
                }
                do {
                    let document = try TOMLDocument(parsing: mutated, file: name)
                    _ = try TOMLTaggedJSON.render(mutated, file: name)
                    let text = TOMLWriter.body(of: document.root, at: [], newline: "\n")
                    XCTAssertEqual(try TOMLDocument(parsing: text).root, document.root, "\(name): \(mutated)")
                    accepted += 1
                } catch is ParseError {
                    rejected += 1
                } catch {
                    XCTFail("\(name): \(error)")
                }
            }
        }
        XCTAssertGreaterThan(accepted, 1000)
        XCTAssertGreaterThan(rejected, 1000)
    }

    /// Whatever the writer prints reads back as the same document.
    func testWriterOutputReadsBackAsTheSameDocument() throws {
        for (name, bytes) in try documents() {
            let document = try TOMLDocument(parsing: bytes, file: name)
            let text = TOMLWriter.body(of: document.root, at: [], newline: "\n")
            let again = try TOMLDocument(parsing: text, file: name + " (rewritten)")
            XCTAssertEqual(again.root, document.root, name)
        }
    }

    /// A new key can go into every table of every valid case, and nothing else changes.
    func testEditorAddsAKeyToEveryTable() throws {
        var edits = 0
        for (name, bytes) in try documents() {
            let original = try TOMLEditor(bytes: bytes, file: name)
            for path in tablePaths(original.document.root) {
                var editor = original
                let key = "provision-added"
                let value: TOMLValue = ["x", 1]
                do {
                    let changed = try editor.set(key, to: value, in: TOMLTableAddress(path))
                    XCTAssertTrue(changed, "\(name) \(path)")
                } catch {
                    XCTFail("\(name): setting a key in \(path): \(error)")
                    continue
                }
                edits += 1
                XCTAssertEqual(editor.value(key, in: TOMLTableAddress(path)), value, "\(name) \(path)")
                var expected = original.document.root
                expected.set(path + [key], to: value)
                XCTAssertEqual(editor.document.root, expected, "\(name) \(path): other values changed")
                XCTAssertTrue(try editor.remove(key, from: TOMLTableAddress(path)), "\(name) \(path)")
                XCTAssertEqual(editor.document.root, original.document.root, "\(name) \(path)")
            }
        }
        XCTAssertGreaterThan(edits, 300)
    }

    /// Tables reachable by key paths (not inside arrays), root included.
    private func tablePaths(_ table: TOMLTable, prefix: [String] = []) -> [[String]] {
        var paths = [prefix]
        for (key, value) in table.entries {
            if let sub = value.table { paths += tablePaths(sub, prefix: prefix + [key]) }
        }
        return paths
    }
}

/// Deterministic random numbers, so a failing mutation can be replayed.
private struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func next(below bound: Int) -> Int { bound <= 0 ? 0 : Int(next() % UInt64(bound)) }
}

private extension TOMLTable {
    mutating func set(_ path: [String], to value: TOMLValue) {
        guard let key = path.first else { return }
        if path.count == 1 {
            self[key] = value
        } else {
            var sub = self[key]?.table ?? TOMLTable()
            sub.set(Array(path.dropFirst()), to: value)
            self[key] = .table(sub)
        }
    }
}
