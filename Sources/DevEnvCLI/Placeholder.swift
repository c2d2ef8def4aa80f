public enum DevEnvCommand { public static func entry() async {} }
