package dev.ferry.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Optional;

/**
 * Reads one entry of {@code gateway.allowedOrigins}. An origin is what a browser sends in its
 * {@code Origin} header: {@code scheme://host[:port]} and nothing more, so an entry with a path, a
 * query or credentials is a mistake we name rather than an origin that silently never matches.
 */
final class AllowedOrigins {

    private AllowedOrigins() {}

    /** The origin in the form a browser sends it (lower case, no default port), or why it is not one. */
    static Result parse(String text) {
        URI uri;
        try {
            uri = new URI(text.trim());
        } catch (URISyntaxException e) {
            return Result.refused("not a URI");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            return Result.refused("must start with http:// or https://");
        }
        if (uri.getHost() == null || uri.getRawUserInfo() != null) {
            return Result.refused("must be scheme://host[:port]");
        }
        boolean bare = (uri.getRawPath() == null || uri.getRawPath().isEmpty())
                && uri.getRawQuery() == null && uri.getRawFragment() == null;
        if (!bare) {
            return Result.refused("must be scheme://host[:port], with no path, query or fragment (not even a trailing /)");
        }
        int port = uri.getPort();
        boolean defaultPort = port == -1 || (scheme.equals("http") && port == 80) || (scheme.equals("https") && port == 443);
        String origin = scheme + "://" + uri.getHost().toLowerCase(Locale.ROOT) + (defaultPort ? "" : ":" + port);
        return new Result(Optional.of(origin), null);
    }

    record Result(Optional<String> origin, String error) {
        static Result refused(String error) {
            return new Result(Optional.empty(), error);
        }
    }
}
