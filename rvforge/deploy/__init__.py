"""Deploy from the checkout: targets, the ssh transport, model checks; the release steps run in ``ontarget``."""
