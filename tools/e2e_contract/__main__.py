"""A small stack for `tools/e2e.sh`: the stack contract alone, published to S3 (moto_server on 127.0.0.1)
by the real dynamic provider under the real engine. e2e.sh copies it, with `components/` and `config/`,
into a temporary project; config: `endpoint`, `revision` (a change of content) and the two
credential secrets the `stack-secrets` mode uses."""

import pulumi

from components.contract.component import PlatformContract
from config.publish import ACCESS_KEY_SECRET, SECRET_KEY_SECRET, PublishConfig

config = pulumi.Config()
publish = PublishConfig.model_validate(
    {
        "s3": {"bucket": "contracts", "endpoint_url": config.require("endpoint")},
        "credentials": "stack-secrets",
        "connect_timeout_seconds": 2,
        "max_attempts": 1,
    }
)
contract = PlatformContract(
    "platform",
    document={"schema_version": "1.0", "stack": pulumi.get_stack(), "revision": config.require("revision")},
    publish=publish,
    credentials=(config.require_secret(ACCESS_KEY_SECRET), config.require_secret(SECRET_KEY_SECRET)),
)
pulumi.export("locations", contract.locations)
