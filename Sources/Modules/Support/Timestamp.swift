import Provisioner

/// `modification_time` / `access_time` of the file module: `preserve`, `now`, or a
/// wall-clock time parsed with a `strptime` format (default `%Y%m%d%H%M.%S`).
enum Timestamp: Equatable, Sendable {
    case preserve
    case now
    /// "YYYY-MM-DD HH:MM:SS", in the host's time zone (Ansible uses `time.mktime` there).
    case wallClock(String)

    init(_ text: String?, format: String, default fallback: Timestamp, argument: String) throws {
        switch text {
        case nil: self = fallback
        case "preserve"?: self = .preserve
        case "now"?: self = .now
        case let text?:
            guard let wallClock = Timestamp.parse(text, format: format) else {
                throw ModuleError("Error while obtaining timestamp for time \(text) using format \(format)", argument: argument)
            }
            self = .wallClock(wallClock)
        }
    }

    /// Python's `time.strptime` for the numeric directives (%Y %y %m %d %H %M %S %j is not
    /// needed by anyone's format); literal characters must match exactly.
    static func parse(_ text: String, format: String) -> String? {
        var year = 1900, month = 1, day = 1, hour = 0, minute = 0, second = 0
        var input = Substring(text)
        var directives = Substring(format)
        func number(maxDigits: Int, range: ClosedRange<Int>) -> Int? {
            let digits = input.prefix(maxDigits).prefix(while: \.isASCIIDigit)
            // Like Python's regexes, take the longest prefix that is in range.
            for length in stride(from: digits.count, through: 1, by: -1) {
                if let value = Int(digits.prefix(length)), range.contains(value) {
                    input = input.dropFirst(length)
                    return value
                }
            }
            return nil
        }
        while let c = directives.first {
            directives.removeFirst()
            if c == "%" {
                guard let d = directives.first else { return nil }
                directives.removeFirst()
                switch d {
                case "Y": guard input.prefix(4).count == 4, let v = number(maxDigits: 4, range: 0...9999) else { return nil }; year = v
                case "y": guard let v = number(maxDigits: 2, range: 0...99) else { return nil }; year = v < 69 ? 2000 + v : 1900 + v
                case "m": guard let v = number(maxDigits: 2, range: 1...12) else { return nil }; month = v
                case "d": guard let v = number(maxDigits: 2, range: 1...31) else { return nil }; day = v
                case "H": guard let v = number(maxDigits: 2, range: 0...23) else { return nil }; hour = v
                case "M": guard let v = number(maxDigits: 2, range: 0...59) else { return nil }; minute = v
                case "S": guard let v = number(maxDigits: 2, range: 0...61) else { return nil }; second = v
                case "%": guard input.first == "%" else { return nil }; input.removeFirst()
                default: return nil
                }
            } else if c.isWhitespace {
                // strptime lets one space in the format match any run of white space.
                while input.first?.isWhitespace == true { input.removeFirst() }
            } else {
                guard input.first == c else { return nil }
                input.removeFirst()
            }
        }
        guard input.isEmpty else { return nil }
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let y = String(year)
        return "\(String(repeating: "0", count: max(0, 4 - y.count)))\(y)-\(two(month))-\(two(day)) \(two(hour)):\(two(minute)):\(two(second))"
    }
}
