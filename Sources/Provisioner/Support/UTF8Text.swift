/// Strict UTF-8 for text the controller reads (templates, `lookup('file')`): bytes that are not
/// UTF-8 are refused with where they are, never turned into U+FFFD. Files copied as bytes never come here.
public enum UTF8Text {
    /// The text, or a description of the first byte that is not UTF-8 ("byte 0xFF at line 2, column 5").
    public static func decode(_ bytes: [UInt8]) -> Result<String, Failure> {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        var line = 1
        var lineStart = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                if encoded.count == 1, encoded.first == UInt8(ascii: "\n") {
                    line += 1
                    lineStart = offset + 1
                }
                offset += encoded.count
            case .error:
                return .failure(Failure(byte: bytes[offset], line: line, column: offset - lineStart + 1))
            case .emptyInput:
                return .success(String(decoding: bytes, as: UTF8.self))
            }
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public var byte: UInt8
        public var line: Int
        public var column: Int
        public var description: String {
            "byte 0x\(String(byte, radix: 16, uppercase: true)) at line \(line), column \(column) is not UTF-8"
        }
    }
}
