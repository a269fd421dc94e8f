package dev.ferry.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;

/** Decides from the text alone whether a bind address is loopback; never resolves a name, so it never blocks. */
final class LoopbackAddresses {

    private LoopbackAddresses() {
    }

    static boolean isLoopback(String bind) {
        if (bind == null) {
            return false;
        }
        String host = bind.trim().toLowerCase(Locale.ROOT);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        if (host.equals("localhost")) {
            return true;
        }
        if (host.contains(":")) {
            return isLoopbackIpv6Literal(host);
        }
        return isLoopbackIpv4(host);
    }

    private static boolean isLoopbackIpv4(String host) {
        String[] parts = host.split("\\.", -1);
        if (parts.length != 4) {
            return false;
        }
        for (String part : parts) {
            if (part.isEmpty() || part.length() > 3 || !part.chars().allMatch(c -> c >= '0' && c <= '9')
                    || Integer.parseInt(part) > 255) {
                return false;
            }
        }
        return Integer.parseInt(parts[0]) == 127;
    }

    private static boolean isLoopbackIpv6Literal(String host) {
        // A text containing ':' is only ever parsed as an IPv6 literal, never looked up in DNS.
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException | SecurityException e) {
            return false;
        }
    }
}
