/// A calendar date as TOML writes it (`1979-05-27`).
public struct TOMLDate: Hashable, Sendable {
    public var year: Int
    public var month: Int
    public var day: Int

    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    var isValid: Bool {
        (1...12).contains(month) && day >= 1 && day <= TOMLDate.daysIn(month: month, year: year)
    }
}

/// A time of day; TOML keeps at most nanosecond precision (extra digits are truncated).
public struct TOMLTime: Hashable, Sendable {
    public var hour: Int
    public var minute: Int
    public var second: Int
    public var nanosecond: Int

    public init(hour: Int, minute: Int, second: Int, nanosecond: Int = 0) {
        self.hour = hour
        self.minute = minute
        self.second = second
        self.nanosecond = nanosecond
    }

    /// Second 60 is RFC 3339's leap second, which TOML's grammar allows.
    var isValid: Bool {
        (0...23).contains(hour) && (0...59).contains(minute) && (0...60).contains(second)
            && (0..<1_000_000_000).contains(nanosecond)
    }
}

/// The four TOML date-time types.
public enum TOMLDateTime: Hashable, Sendable, CustomStringConvertible {
    /// `offsetMinutes` is east of UTC: `+05:30` is 330, `Z` is 0.
    case offsetDateTime(TOMLDate, TOMLTime, offsetMinutes: Int)
    case localDateTime(TOMLDate, TOMLTime)
    case localDate(TOMLDate)
    case localTime(TOMLTime)

    /// RFC 3339 text, which is also valid TOML: `1979-05-27T07:32:00.5-07:00`.
    public var description: String {
        switch self {
        case let .offsetDateTime(date, time, offset):
            return Self.text(date) + "T" + Self.text(time) + Self.offsetText(offset)
        case let .localDateTime(date, time): return Self.text(date) + "T" + Self.text(time)
        case let .localDate(date): return Self.text(date)
        case let .localTime(time): return Self.text(time)
        }
    }

    private static func text(_ date: TOMLDate) -> String {
        pad(date.year, 4) + "-" + pad(date.month, 2) + "-" + pad(date.day, 2)
    }

    private static func text(_ time: TOMLTime) -> String {
        var s = pad(time.hour, 2) + ":" + pad(time.minute, 2) + ":" + pad(time.second, 2)
        if time.nanosecond > 0 {
            var digits = pad(time.nanosecond, 9)
            while digits.hasSuffix("0") { digits.removeLast() }
            s += "." + digits
        }
        return s
    }

    private static func offsetText(_ minutes: Int) -> String {
        if minutes == 0 { return "Z" }
        let magnitude = abs(minutes)
        return (minutes < 0 ? "-" : "+") + pad(magnitude / 60, 2) + ":" + pad(magnitude % 60, 2)
    }

    private static func pad(_ n: Int, _ width: Int) -> String {
        let digits = String(n)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
