package io.berth.images;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The changes of docker import, parsed and applied as Docker's BuildFromConfig does. */
class ImageChangesTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static String apply(String... changes) throws Exception {
        return JSON.writeValueAsString(ImageChanges.apply(JSON.createObjectNode(), List.of(changes)));
    }

    private static String error(String... changes) {
        return assertThrows(IllegalArgumentException.class,
                () -> ImageChanges.apply(JSON.createObjectNode(), List.of(changes))).getMessage();
    }

    @Test
    void cmdAndEntrypointTakeTheExecAndTheShellForm() throws Exception {
        assertEquals("{\"Cmd\":[\"/bin/sh\",\"-c\",\"echo hi && ls\"]}", apply("CMD echo hi && ls"));
        assertEquals("{\"Cmd\":[\"/bin/busybox\",\"sh\"]}", apply("cmd [\"/bin/busybox\", \"sh\"]"));
        // Not a JSON array of strings: the shell form, as Docker falls back to it.
        assertEquals("{\"Cmd\":[\"/bin/sh\",\"-c\",\"[not json\"]}", apply("CMD [not json"));
        assertEquals("{\"Cmd\":[\"run\"],\"Entrypoint\":[\"/init\"]}", apply("CMD [\"run\"]", "ENTRYPOINT [\"/init\"]"));
    }

    @Test
    void anEntrypointDropsACmdThatTheChangesDidNotSet() throws Exception {
        ObjectNode config = JSON.createObjectNode();
        config.putArray("Cmd").add("old");
        ImageChanges.apply(config, List.of("ENTRYPOINT /init"));
        assertEquals("{\"Entrypoint\":[\"/bin/sh\",\"-c\",\"/init\"]}", JSON.writeValueAsString(config));
    }

    @Test
    void envTakesPairsQuotesVariablesAndTheLegacyForm() throws Exception {
        assertEquals("{\"Env\":[\"A=1\",\"B=two words\",\"C=1-x\",\"D=$A\"]}",
                apply("ENV A=1 B=\"two words\"", "ENV C=${A}-x D='$A'"));
        assertEquals("{\"Env\":[\"PATH=/usr/bin /bin\"]}", apply("ENV PATH /usr/bin /bin"));
        assertEquals("{\"Env\":[\"A=2\"]}", apply("ENV A=1", "ENV A=2"));
        assertEquals("{\"Env\":[\"A=x\",\"B=x-default\"]}", apply("ENV A=x", "ENV B=$A-${NONE:-default}"));
    }

    @Test
    void labelsExposedPortsVolumesAndTheRest() throws Exception {
        assertEquals("{\"Labels\":{\"a\":\"1\",\"b c\":\"d\"}}", apply("LABEL a=1 \"b c\"=d"));
        assertEquals("{\"ExposedPorts\":{\"80/tcp\":{},\"53/udp\":{},\"8000/tcp\":{},\"8001/tcp\":{}}}",
                apply("EXPOSE 80 53/udp", "EXPOSE 8000-8001"));
        assertEquals("{\"Volumes\":{\"/data\":{},\"/logs\":{}}}", apply("VOLUME /data", "VOLUME [\"/logs\"]"));
        assertEquals("{\"User\":\"nobody:nogroup\"}", apply("USER nobody:nogroup"));
        assertEquals("{\"WorkingDir\":\"/app/src\"}", apply("WORKDIR /app", "WORKDIR src"));
        assertEquals("{\"StopSignal\":\"SIGINT\"}", apply("STOPSIGNAL SIGINT"));
        assertEquals("{\"OnBuild\":[\"RUN make\"]}", apply("ONBUILD RUN make"));
    }

    @Test
    void healthcheckTakesDockersFlagsAndForms() throws Exception {
        assertEquals("{\"Healthcheck\":{\"Interval\":30000000000,\"Retries\":3,\"Test\":[\"CMD-SHELL\",\"curl -f x\"]}}",
                apply("HEALTHCHECK --interval=30s --retries=3 CMD curl -f x"));
        assertEquals("{\"Healthcheck\":{\"Timeout\":90000000000,\"Test\":[\"CMD\",\"/check\"]}}",
                apply("HEALTHCHECK --timeout=1m30s CMD [\"/check\"]"));
        assertEquals("{\"Healthcheck\":{\"Test\":[\"NONE\"]}}", apply("HEALTHCHECK NONE"));
    }

    @Test
    void changesSpanLinesAndSkipComments() throws Exception {
        assertEquals("{\"Env\":[\"A=1\",\"B=2\"]}", apply("# set two\nENV A=1 \\\n  B=2"));
    }

    @Test
    void badChangesAreRefusedWithDockersReason() {
        assertEquals("run is not a valid change command", error("RUN make"));
        assertEquals("from is not a valid change command", error("ENV A=1", "FROM scratch"));
        assertEquals("Syntax error - can't find = in \"B\". Must be of the form: name=value", error("ENV A=1 B"));
        assertEquals("Invalid containerPort: 99999", error("EXPOSE 99999"));
        assertEquals("Invalid proto: xyz", error("EXPOSE 80/xyz"));
        assertEquals("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed", error("ONBUILD ONBUILD RUN x"));
        assertEquals("FROM isn't allowed as an ONBUILD trigger", error("ONBUILD FROM x"));
        assertEquals("HEALTHCHECK: invalid duration for --interval=10: 10", error("HEALTHCHECK --interval=10 CMD x"));
        assertEquals("STOPSIGNAL: invalid signal: sig term", error("STOPSIGNAL \"sig term\""));
        assertEquals("unexpected end of statement while looking for matching \" in: A=\"open", error("ENV A=\"open"));
    }
}
