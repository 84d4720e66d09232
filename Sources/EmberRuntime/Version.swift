public enum EmberRuntimeVersion { public static let string = "0.1.0" }
