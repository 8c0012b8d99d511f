"""Property-based fuzzing of every route in-process (Flask's test client, the real tiny LaMa engine).

Whatever the request, the answer is the route's success or a JSON 4xx with a reason; never a 5xx,
a 200 without an image, or a traceback. Seeded (derandomize) so a failure reproduces; each
property runs FAST_CASES cases per CI run and SLOW_CASES in the slow run. After each run the
golden request still gives the golden result.
"""

from __future__ import annotations

from collections import Counter
from urllib.parse import quote

import pytest
from answer_checks import Answer, check_answer, check_golden, golden_request
from fuzz_cases import Body, json_bodies, multipart_bodies, nested_bodies, requests_of_any_shape
from hypothesis import HealthCheck, given, settings

from magiceraser.engine import load_engine
from magiceraser.server import create_app

FAST_CASES = {"predict": 200, "predict_nested": 60, "inpaint_json": 120, "inpaint_multipart": 150, "any_route": 150}
ROUTES = {"predict": "/predict", "predict_nested": "/predict", "inpaint_json": "/api/v1/inpaint",
          "inpaint_multipart": "/api/v1/inpaint"}
SLOW_CASES = 2000
CASES: Counter = Counter()


@pytest.fixture(scope="module")
def client(tiny_model):
    app = create_app({"ENGINE": load_engine(str(tiny_model), warm_up=False), "MAX_PIXELS": 1_000_000,
                      "MAX_CONTENT_LENGTH": 2 * 2**20})
    return app.test_client()


@pytest.fixture(scope="module", autouse=True)
def still_golden_afterwards(client, lama_reference):
    yield
    response = client.post("/predict", json=golden_request(lama_reference))
    assert response.status_code == 200, response.data[:300]
    check_golden(response.get_json()["result_image"], lama_reference)
    print(f"\nfuzzed cases per property: {dict(CASES)}")


def send(client, method: str, path: str, body: Body) -> None:
    response = client.open(path, method=method, data=body.data, headers=body.headers,
                           content_type=body.content_type)
    check_answer(Answer(response.status_code, response.headers, response.get_data()), method, path)


def fuzz(name: str, strategy, examples: int):
    """A derandomized property over ``strategy``; ``name`` keys FAST_CASES and the case counter."""
    def run(client, case) -> None:
        CASES[name] += 1
        if name == "any_route":
            method, path, body = case
            send(client, method, quote(path, safe="/?=&%"), body)
        else:
            send(client, "POST", ROUTES[name], case)

    run.__name__ = f"fuzz_{name}"
    return settings(max_examples=examples, derandomize=True, database=None, deadline=None,
                    suppress_health_check=list(HealthCheck))(given(case=strategy)(run))


def inpaint_json_bodies():
    return json_bodies().map(lambda body: Body(body.data, body.content_type or "application/json"))


STRATEGIES = {"predict": json_bodies, "predict_nested": nested_bodies, "inpaint_json": inpaint_json_bodies,
              "inpaint_multipart": multipart_bodies, "any_route": requests_of_any_shape}

test_predict = fuzz("predict", json_bodies(), FAST_CASES["predict"])
test_predict_nested = fuzz("predict_nested", nested_bodies(), FAST_CASES["predict_nested"])
test_inpaint_json = fuzz("inpaint_json", inpaint_json_bodies(), FAST_CASES["inpaint_json"])
test_inpaint_multipart = fuzz("inpaint_multipart", multipart_bodies(), FAST_CASES["inpaint_multipart"])
test_any_route = fuzz("any_route", requests_of_any_shape(), FAST_CASES["any_route"])


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_slow_fuzz(client, name):
    fuzz(name, STRATEGIES[name](), SLOW_CASES)(client)
