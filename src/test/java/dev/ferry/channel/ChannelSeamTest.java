package dev.ferry.channel;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import dev.ferry.config.ChannelNames;

/** The channel seam as the sources show it: the gateway names no channel, and no stage reaches back past it. */
class ChannelSeamTest {

    private static final Path MAIN = Path.of("src", "main", "java", "dev", "ferry");

    @Test
    void gatewayNamesNoChannel() {
        assertThat(sourcesOf("gateway")).allSatisfy(source -> assertThat(text(source).toLowerCase(Locale.ROOT))
                .as(source.toString()).doesNotContain("webhook").doesNotContain("telegram").doesNotContain("webchat"));
    }

    @Test
    void debounceImportsNoSessionAndConfigImportsNoChannel() {
        assertThat(sourcesOf("debounce")).allSatisfy(source ->
                assertThat(text(source)).as(source.toString()).doesNotContain("import dev.ferry.session."));
        assertThat(sourcesOf("config")).allSatisfy(source ->
                assertThat(text(source)).as(source.toString()).doesNotContain("import dev.ferry.channel."));
    }

    @Test
    void intakeHoldsNoChannelAdapters() {
        assertThat(MAIN.resolve("intake").resolve("channel")).doesNotExist();
    }

    @Test
    void configValidationTakesTheCatalogsChannelNames() {
        assertThat(ChannelNames.registered().names()).isEqualTo(ChannelCatalog.BUILT_IN.names())
                .containsExactly("control", "telegram", "webchat", "webhook");
    }

    private static List<Path> sourcesOf(String pkg) {
        try (Stream<Path> files = Files.walk(MAIN.resolve(pkg))) {
            List<Path> sources = files.filter(file -> file.toString().endsWith(".java")).toList();
            assertThat(sources).as("sources of " + pkg).isNotEmpty();
            return sources;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String text(Path source) {
        try {
            return Files.readString(source, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
