import Provisioner

/// A resource module: desired arguments + observed state -> plan (DESIGN §3).
/// The engine issue fills this in; the data layer does not depend on it.
public protocol Module {
    static var name: String { get }
}
