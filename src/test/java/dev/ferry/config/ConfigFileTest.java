package dev.ferry.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.ferry.testing.Fifos;

/** The configuration file as the config RPCs edit it: atomic replacement with a backup, and kept secrets. */
class ConfigFileTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static ObjectNode object(String text) throws Exception {
        return (ObjectNode) JSON.readTree(text.replace('\'', '"'));
    }

    private List<String> filesInDir() throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(file -> file.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void writeAtomicallyKeepsTheOldFileAsABackupAndLeavesNoTemporaryFiles() throws Exception {
        Path path = dir.resolve("ferry.json5");
        String old = "// the operator's comment\n{ gateway: { port: 18789 } }\n";
        Files.writeString(path, old, StandardCharsets.UTF_8);
        ConfigFile file = new ConfigFile(path);

        file.writeAtomically("{ \"gateway\": { \"port\": 18790 } }\n");

        assertThat(Files.readString(path)).isEqualTo("{ \"gateway\": { \"port\": 18790 } }\n");
        assertThat(Files.readString(dir.resolve("ferry.json5.bak"))).isEqualTo(old);
        assertThat(filesInDir()).containsExactly("ferry.json5", "ferry.json5.bak");
    }

    @Test
    void theBackupIsAlwaysTheVersionJustReplaced() throws Exception {
        Path path = dir.resolve("ferry.json5");
        ConfigFile file = new ConfigFile(path);
        Files.writeString(path, "{ a: 1 }");

        file.writeAtomically("{ a: 2 }");
        file.writeAtomically("{ a: 3 }");

        assertThat(Files.readString(path)).isEqualTo("{ a: 3 }");
        assertThat(Files.readString(dir.resolve("ferry.json5.bak"))).isEqualTo("{ a: 2 }");
        assertThat(filesInDir()).containsExactly("ferry.json5", "ferry.json5.bak");
    }

    @Test
    void writeAtomicallyCreatesAMissingFileWithoutABackup() throws Exception {
        Path path = dir.resolve("nested").resolve("ferry.json5");
        ConfigFile file = new ConfigFile(path);

        file.writeAtomically("{}\n");

        assertThat(Files.readString(path)).isEqualTo("{}\n");
        try (Stream<Path> files = Files.list(path.getParent())) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("ferry.json5");
        }
    }

    @Test
    void readingAMissingFileGivesTheEmptyText() throws Exception {
        ConfigFile file = new ConfigFile(dir.resolve("absent.json5"));

        assertThat(file.read()).isEmpty();
        assertThat(file.tree(file.read())).isEmpty();
        assertThat(ConfigFile.hash("")).isEqualTo(ConfigLoader.load(dir.resolve("absent.json5")).hash());
    }

    @Test
    void readReturnsTheTextAndItsHashMatchesWhatTheLoaderReports() throws Exception {
        Path path = dir.resolve("ferry.json5");
        String text = "{ messages: { queue: { cap: 5 } } } // héllo\n";
        Files.writeString(path, text, StandardCharsets.UTF_8);
        ConfigFile file = new ConfigFile(path);

        assertThat(file.read()).isEqualTo(text);
        assertThat(ConfigFile.hash(file.read())).isEqualTo(ConfigLoader.load(path).hash());
    }

    @Test
    void keepRedactedSecretsRestoresEverySecretGivenAsRedacted() throws Exception {
        ObjectNode current = object("{'gateway':{'auth':{'token':'gw-secret'}},"
                + "'channels':{'webhook':{'token':'wh-secret'},'telegram':{'botToken':'tg-secret'}}}");
        ObjectNode edited = object("{'gateway':{'port':1,'auth':{'token':'<redacted>'}},"
                + "'channels':{'webhook':{'token':'<redacted>','replyUrl':'http://x'},"
                + "'telegram':{'botToken':'<redacted>','enabled':true}}}");

        ConfigFile.keepRedactedSecrets(edited, current);

        assertThat(edited).isEqualTo(object("{'gateway':{'port':1,'auth':{'token':'gw-secret'}},"
                + "'channels':{'webhook':{'token':'wh-secret','replyUrl':'http://x'},"
                + "'telegram':{'botToken':'tg-secret','enabled':true}}}"));
    }

    @Test
    void keepRedactedSecretsRemovesARedactedSecretThatHadNoValue() throws Exception {
        ObjectNode current = object("{'gateway':{'port':1}}");
        ObjectNode edited = object("{'gateway':{'port':1,'auth':{'token':'<redacted>'}},"
                + "'channels':{'telegram':{'botToken':'<redacted>'}}}");

        ConfigFile.keepRedactedSecrets(edited, current);

        assertThat(edited).isEqualTo(object("{'gateway':{'port':1,'auth':{}},'channels':{'telegram':{}}}"));
        assertThat(edited.toString()).doesNotContain("<redacted>");
    }

    @Test
    void keepRedactedSecretsLeavesANewSecretAndOtherRedactedLookingValuesAlone() throws Exception {
        ObjectNode current = object("{'gateway':{'auth':{'token':'old'}},'agent':{'systemPrompt':'x'}}");
        ObjectNode edited = object("{'gateway':{'auth':{'token':'new'}},'agent':{'systemPrompt':'<redacted>'}}");

        ConfigFile.keepRedactedSecrets(edited, current);

        assertThat(edited).isEqualTo(object("{'gateway':{'auth':{'token':'new'}},'agent':{'systemPrompt':'<redacted>'}}"));
    }

    @Test
    void readRefusesAFifoWithoutBlockingOnIt() throws Exception {
        Path fifo = Fifos.make(dir.resolve("ferry.json5"));

        // config.patch reads the file under the edit lock: a blocked read would wedge every later edit.
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> assertThatThrownBy(() -> new ConfigFile(fifo).read())
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.errors())
                        .containsExactly(fifo + ": cannot read: not a regular file (a FIFO, socket or device)")));
    }

    @Test
    void readGivesEmptyTextForAMissingFileAndRefusesInvalidUtf8() throws Exception {
        Path path = dir.resolve("ferry.json5");

        assertThat(new ConfigFile(path).read()).isEmpty();
        Files.write(path, new byte[] {'{', (byte) 0xC3, '}'});
        assertThatThrownBy(() -> new ConfigFile(path).read())
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.errors())
                        .containsExactly(path + ": cannot read: not valid UTF-8"));
    }
}
