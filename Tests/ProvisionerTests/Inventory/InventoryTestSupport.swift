import Foundation
import XCTest
@testable import Provisioner

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
