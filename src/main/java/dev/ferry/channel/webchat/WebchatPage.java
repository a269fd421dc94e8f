package dev.ferry.channel.webchat;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

import dev.ferry.channel.ChannelPages;

/**
 * The web chat page (SPEC 3.5), served from the jar: {@code /} is the page, {@code /webchat/<file>} its
 * script and style, {@code /webjars/...} the two libraries it renders Markdown with. Only the files named
 * here are served, so no path can reach anything else on the class path. Every answer carries a
 * Content-Security-Policy that allows scripts and styles from the gateway alone, so markup that slipped
 * past the sanitizer still could not run a script. The page talks to {@code /ws} with {@code chat.send},
 * as channel {@code webchat}, which serves it only while enabled. Thread-safe: files are read once and kept.
 */
public final class WebchatPage implements ChannelPages {

    /** The libraries the page loads, by their path under {@code /webjars/}: the pom's WebJar versions. */
    static final Map<String, String> LIBRARIES = Map.of(
            "marked/15.0.7/marked.min.js", "META-INF/resources/webjars/marked/15.0.7/marked.min.js",
            "dompurify/3.2.4/dist/purify.min.js", "META-INF/resources/webjars/dompurify/3.2.4/dist/purify.min.js");
    private static final String FOLDER = "webchat/";
    private static final String ASSETS = "/webchat/";
    private static final String WEBJARS = "/webjars/";
    private static final Pattern ASSET_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,63}\\.(js|css|svg|png|ico)");
    private static final Map<String, String> TYPES = Map.of(
            "html", "text/html; charset=utf-8",
            "js", "text/javascript; charset=utf-8",
            "css", "text/css; charset=utf-8",
            "svg", "image/svg+xml",
            "png", "image/png",
            "ico", "image/x-icon");
    /** Scripts and styles from the gateway only; no inline script, no plug-in, no framing by another site. */
    static final String CONTENT_SECURITY_POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; "
            + "connect-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
            + "frame-ancestors 'none'; form-action 'none'";
    private static final Map<String, String> HEADERS = Map.of(
            "Content-Security-Policy", CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options", "nosniff",
            "Referrer-Policy", "no-referrer",
            // The page changes with the jar; a cached old page would speak an old protocol.
            "Cache-Control", "no-cache");

    private final ClassLoader loader = WebchatPage.class.getClassLoader();
    private final Map<String, Optional<Page>> loaded = new ConcurrentHashMap<>();

    @Override
    public Optional<Page> at(String path) {
        if (path.equals("/") || path.equals("/index.html")) {
            return serve(FOLDER + "index.html");
        }
        if (path.startsWith(ASSETS)) {
            String name = path.substring(ASSETS.length());
            return ASSET_NAME.matcher(name).matches() ? serve(FOLDER + name) : Optional.empty();
        }
        if (path.startsWith(WEBJARS)) {
            String resource = LIBRARIES.get(path.substring(WEBJARS.length()));
            return resource == null ? Optional.empty() : serve(resource);
        }
        return Optional.empty();
    }

    private Optional<Page> serve(String resource) {
        return loaded.computeIfAbsent(resource, this::load);
    }

    private Optional<Page> load(String resource) {
        try (InputStream in = loader.getResourceAsStream(resource)) {
            if (in == null) {
                return Optional.empty();
            }
            String extension = resource.substring(resource.lastIndexOf('.') + 1);
            return Optional.of(new Page(TYPES.getOrDefault(extension, "application/octet-stream"), in.readAllBytes(),
                    HEADERS));
        } catch (IOException e) {
            throw new UncheckedIOException("could not read " + resource + " from the jar", e);
        }
    }
}
