/// Numbers and date-times, told apart by their first bytes.
extension TOMLReader {
    mutating func readNumberOrDateTime() throws -> TOMLValue.Kind {
        if (0..<4).allSatisfy({ peek($0).map(TOMLByte.isDigit) ?? false }), peek(4) == TOMLByte.dash {
            return .dateTime(try readDateTime())
        }
        if (0..<2).allSatisfy({ peek($0).map(TOMLByte.isDigit) ?? false }), peek(2) == TOMLByte.colon {
            return .dateTime(.localTime(try readTime()))
        }
        return try readNumber()
    }

    // MARK: Numbers

    private static func isNumberByte(_ c: UInt8) -> Bool {
        isBareKeyByte(c) || c == TOMLByte.plus || c == TOMLByte.dot
    }

    private mutating func readNumber() throws -> TOMLValue.Kind {
        let start = pos
        while pos < bytes.count, TOMLReader.isNumberByte(bytes[pos]) { pos += 1 }
        let token = bytes[start..<pos]
        let text = String(decoding: token, as: UTF8.self)
        let location = SourceLocation(file: file, mark: mark(at: start))
        let invalid = { (why: String) in ParseError("invalid number '\(text)': \(why)", at: location) }

        var i = token.startIndex
        let negative = token[i] == TOMLByte.dash
        let signed = negative || token[i] == TOMLByte.plus
        if signed { i += 1 }
        let unsigned = token[i...]
        if unsigned.elementsEqual("inf".utf8) { return .float(negative ? -.infinity : .infinity) }
        if unsigned.elementsEqual("nan".utf8) { return .float(negative ? -.nan : .nan) }

        if unsigned.count >= 2, unsigned.first == 0x30, let radix = TOMLReader.radix(unsigned[i + 1]) {
            guard !signed else { throw invalid("hexadecimal, octal and binary integers take no sign") }
            let digits = unsigned.dropFirst(2)
            guard TOMLReader.digitsEnd(digits, from: digits.startIndex, radix: radix) == digits.endIndex else {
                throw invalid("expected base-\(radix) digits, with '_' only between digits")
            }
            guard let value = TOMLReader.integer(digits, radix: radix, negative: false) else {
                throw invalid("it does not fit in 64 bits")
            }
            return .integer(value)
        }

        guard let intEnd = TOMLReader.digitsEnd(token, from: i, radix: 10) else {
            throw invalid("expected digits, with '_' only between digits")
        }
        if token[i] == 0x30, intEnd - i > 1 { throw invalid("leading zeros are not allowed") }
        var j = intEnd
        var isFloat = false
        if j < token.endIndex, token[j] == TOMLByte.dot {
            guard let end = TOMLReader.digitsEnd(token, from: j + 1, radix: 10) else {
                throw invalid("expected digits after the decimal point")
            }
            j = end
            isFloat = true
        }
        if j < token.endIndex, token[j] == 0x65 || token[j] == 0x45 {  // e, E
            j += 1
            if j < token.endIndex, token[j] == TOMLByte.plus || token[j] == TOMLByte.dash { j += 1 }
            guard let end = TOMLReader.digitsEnd(token, from: j, radix: 10) else {
                throw invalid("expected digits in the exponent")
            }
            j = end
            isFloat = true
        }
        guard j == token.endIndex else { throw invalid("unexpected '\(Character(Unicode.Scalar(token[j])))'") }
        if isFloat {
            let plain = String(decoding: token.filter { $0 != TOMLByte.underscore }, as: UTF8.self)
            guard let value = Double(plain) else { throw invalid("not a float") }
            return .float(value)
        }
        guard let value = TOMLReader.integer(token[i..<j], radix: 10, negative: negative) else {
            throw invalid("it does not fit in 64 bits")
        }
        return .integer(value)
    }

    private static func radix(_ c: UInt8) -> Int? {
        switch c {
        case 0x78: return 16  // x
        case 0x6F: return 8  // o
        case 0x62: return 2  // b
        default: return nil
        }
    }

    private static func digitValue(_ c: UInt8, radix: Int) -> Int? {
        guard let v = hexValue(c), Int(v) < radix else { return nil }
        return Int(v)
    }

    /// End of a run of digits in which each '_' sits between two digits; nil when none start at `from`.
    private static func digitsEnd(_ s: ArraySlice<UInt8>, from: Int, radix: Int) -> Int? {
        var i = from
        guard i < s.endIndex, digitValue(s[i], radix: radix) != nil else { return nil }
        i += 1
        while i < s.endIndex {
            if digitValue(s[i], radix: radix) != nil {
                i += 1
            } else if s[i] == TOMLByte.underscore, i + 1 < s.endIndex, digitValue(s[i + 1], radix: radix) != nil {
                i += 2
            } else {
                break
            }
        }
        return i
    }

    /// nil on overflow; the magnitude may reach 2^63 when negative.
    private static func integer(_ digits: ArraySlice<UInt8>, radix: Int, negative: Bool) -> Int64? {
        var magnitude: UInt64 = 0
        for c in digits where c != TOMLByte.underscore {
            guard let d = digitValue(c, radix: radix) else { return nil }
            let (m, o1) = magnitude.multipliedReportingOverflow(by: UInt64(radix))
            let (a, o2) = m.addingReportingOverflow(UInt64(d))
            guard !o1, !o2 else { return nil }
            magnitude = a
        }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(magnitude)
    }

    // MARK: Date-times (RFC 3339, seconds required)

    private mutating func readDateTime() throws -> TOMLDateTime {
        let date = try readDate()
        if peek() == 0x54 || peek() == 0x74 {  // T, t
            pos += 1
        } else if peek() == TOMLByte.space, let c1 = peek(1), let c2 = peek(2),
                  TOMLByte.isDigit(c1), TOMLByte.isDigit(c2), peek(3) == TOMLByte.colon {
            pos += 1
        } else {
            return .localDate(date)
        }
        let time = try readTime()
        switch peek() {
        case 0x5A?, 0x7A?:  // Z, z
            pos += 1
            return .offsetDateTime(date, time, offsetMinutes: 0)
        case TOMLByte.plus?, TOMLByte.dash?:
            let negative = peek() == TOMLByte.dash
            let start = pos
            pos += 1
            let hours = try fixedDigits(2, "offset hours")
            try expect(TOMLByte.colon, "':' in the time offset")
            let minutes = try fixedDigits(2, "offset minutes")
            guard hours <= 23, minutes <= 59 else {
                throw error("time offset out of range (at most 23:59)", at: start)
            }
            let total = hours * 60 + minutes
            return .offsetDateTime(date, time, offsetMinutes: negative ? -total : total)
        default:
            return .localDateTime(date, time)
        }
    }

    private mutating func readDate() throws -> TOMLDate {
        let start = pos
        let year = try fixedDigits(4, "year")
        try expect(TOMLByte.dash, "'-' after the year")
        let month = try fixedDigits(2, "month")
        try expect(TOMLByte.dash, "'-' after the month")
        let day = try fixedDigits(2, "day")
        let date = TOMLDate(year: year, month: month, day: day)
        guard date.isValid else { throw error("invalid date: no day \(day) in month \(month) of \(year)", at: start) }
        return date
    }

    private mutating func readTime() throws -> TOMLTime {
        let start = pos
        let hour = try fixedDigits(2, "hour")
        try expect(TOMLByte.colon, "':' after the hour")
        let minute = try fixedDigits(2, "minute")
        try expect(TOMLByte.colon, "':' after the minute (TOML 1.0 requires seconds)")
        let second = try fixedDigits(2, "second")
        var nanosecond = 0
        if peek() == TOMLByte.dot {
            pos += 1
            guard let first = peek(), TOMLByte.isDigit(first) else {
                throw error("expected digits after the decimal point in the time")
            }
            var scale = 100_000_000
            while let c = peek(), TOMLByte.isDigit(c) {
                nanosecond += Int(c - 0x30) * scale
                scale /= 10
                pos += 1
            }
        }
        let time = TOMLTime(hour: hour, minute: minute, second: second, nanosecond: nanosecond)
        guard time.isValid else { throw error("invalid time: \(hour):\(minute):\(second) is out of range", at: start) }
        return time
    }

    private mutating func fixedDigits(_ count: Int, _ what: String) throws -> Int {
        var value = 0
        for _ in 0..<count {
            guard let c = peek(), TOMLByte.isDigit(c) else { throw error("expected \(count) digits for the \(what)") }
            value = value * 10 + Int(c - 0x30)
            pos += 1
        }
        return value
    }

    private mutating func expect(_ byte: UInt8, _ what: String) throws {
        guard peek() == byte else { throw error("expected \(what), found \(found())") }
        pos += 1
    }

    // MARK: Encoding

    /// Rejects anything that is not well-formed UTF-8 (overlongs, surrogates, > U+10FFFF) up front.
    mutating func validateUTF8() throws {
        var i = pos
        while i < bytes.count {
            let b = bytes[i]
            if b < 0x80 {
                i += 1
                continue
            }
            let length: Int
            var scalar: UInt32
            switch b {
            case 0xC2...0xDF: length = 2; scalar = UInt32(b & 0x1F)
            case 0xE0...0xEF: length = 3; scalar = UInt32(b & 0x0F)
            case 0xF0...0xF4: length = 4; scalar = UInt32(b & 0x07)
            default: throw invalidUTF8(at: i)
            }
            guard i + length <= bytes.count else { throw invalidUTF8(at: i) }
            for k in 1..<length {
                let c = bytes[i + k]
                guard c & 0xC0 == 0x80 else { throw invalidUTF8(at: i) }
                scalar = scalar << 6 | UInt32(c & 0x3F)
            }
            let minimum: UInt32 = length == 3 ? 0x800 : length == 4 ? 0x10000 : 0x80
            guard scalar >= minimum, scalar <= 0x10FFFF, !(0xD800...0xDFFF).contains(scalar) else {
                throw invalidUTF8(at: i)
            }
            i += length
        }
    }

    private func invalidUTF8(at offset: Int) -> ParseError {
        let hex = String(bytes[offset], radix: 16, uppercase: true)
        return ParseError("invalid UTF-8 (byte 0x\(hex)); TOML files must be UTF-8",
                          at: SourceLocation(file: file, mark: TOMLReader.markByScanning(bytes, to: offset)))
    }
}
